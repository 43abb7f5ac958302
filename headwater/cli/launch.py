"""Runs started from code, recorded as the UI records its own.

A run the UI launches carries the origin of its code location (`headwater`, as
workspace.yaml names it): the UI lists it under its job and on the Overview timeline,
and re-executes it from that location. `JobDefinition.execute_in_process` creates its
runs without an origin, so the UI showed them under Runs only and warned on
re-execute. Here the run is created with the same origins the webserver gives it, then
executed in this process, with no daemon and no code server.

Dagster has no public API for "create a run for a code location and execute it here";
the few internal names this needs are imported in this module only, and
tests/ui/test_dev_ui.py checks through the webserver's GraphQL API that such runs are
the location's own, so an upgrade that moves them fails a test rather than the UI.
"""

import sys
from typing import Any

import dagster as dg
from dagster._core.code_pointer import ModuleCodePointer
from dagster._core.definitions.job_base import InMemoryJob
from dagster._core.execution.api import execute_run
from dagster._core.origin import JobPythonOrigin, RepositoryPythonOrigin
from dagster._core.remote_origin import (
    ManagedGrpcPythonEnvCodeLocationOrigin,
    RemoteJobOrigin,
    RemoteRepositoryOrigin,
)
from dagster._core.types.loadable_target_origin import LoadableTargetOrigin
from dagster._utils.hosted_user_process import recon_job_from_origin

from headwater import settings
from headwater.settings import REPO_ROOT

LOCATION_NAME = "headwater"  # workspace.yaml, pyproject.toml's [tool.dagster] and [tool.dg]
REPOSITORY_NAME = "__repository__"  # what Dagster names the repository of a Definitions
MODULE = "definitions"  # definitions.py, loaded as a module everywhere


def _loadable_target() -> LoadableTargetOrigin:
    return LoadableTargetOrigin(
        executable_path=sys.executable,
        module_name=MODULE,
        working_directory=str(REPO_ROOT),
    )


def job_origins(job_name: str) -> tuple[RemoteJobOrigin, JobPythonOrigin]:
    """The origins the webserver gives a run of `job_name` launched from the UI."""
    location = ManagedGrpcPythonEnvCodeLocationOrigin(_loadable_target(), LOCATION_NAME)
    remote = RemoteJobOrigin(RemoteRepositoryOrigin(location, REPOSITORY_NAME), job_name)
    python = JobPythonOrigin(
        job_name,
        RepositoryPythonOrigin(
            executable_path=sys.executable,
            code_pointer=ModuleCodePointer(
                module=MODULE, fn_name="defs", working_directory=str(REPO_ROOT)
            ),
        ),
    )
    return remote, python


def execute(
    job: dg.JobDefinition,
    instance: dg.DagsterInstance,
    run_id: str,
    run_config: dict[str, Any],
    tags: dict[str, str],
) -> dg.JobExecutionResult:
    """Create the run as the `headwater` location's own, then execute it in this process."""
    remote, python = job_origins(job.name)
    run = instance.create_run_for_job(
        job,
        run_id=run_id,
        run_config=run_config,
        tags=tags,
        remote_job_origin=remote,
        job_code_origin=python,
    )
    # The Celery executor (distributed profile) sends each step to workers that load the
    # job from its origin: the run needs the reconstructable job, not the one in memory.
    runnable = recon_job_from_origin(python) if settings.distributed() else InMemoryJob(job)
    return execute_run(runnable, run, instance, raise_on_error=False)
