"""The Celery app of the distributed profile: the broker, backend and settings the
executor (resources/definitions.py) sends steps with, and the tasks workers run them by
(dagster-celery's). `headwater worker` starts a worker on it: the broker URL comes from
the environment, never from a file written to disk."""

import os

import celery.app.trace
from celery.signals import worker_ready
from dagster_celery.executor import CeleryExecutor
from dagster_celery.make_app import make_app
from dagster_celery.tasks import create_execute_job_task, create_resume_job_task, create_task

from headwater import settings

# One task at a time per worker process, acknowledged when it ends: a step whose worker
# dies mid-step goes back on the queue for another worker instead of being lost.
CELERY_SETTINGS = {
    "worker_prefetch_multiplier": 1,
    "task_acks_late": True,
    "task_reject_on_worker_lost": True,
    "broker_connection_retry_on_startup": True,
    # A run sending a step while the broker restarts keeps trying for about five minutes.
    "task_publish_retry_policy": {
        "max_retries": 60,
        "interval_start": 0,
        "interval_step": 1,
        "interval_max": 5,
    },
    "broker_transport_options": {
        "max_retries": 60,
        "interval_start": 0,
        "interval_step": 1,
        "interval_max": 5,
    },
}


def executor_config() -> dict:
    """The celery executor's config: broker and backend read from the environment when
    the run starts (a broker URL may hold a password)."""
    return {
        "broker": {"env": "HEADWATER_CELERY_BROKER"},
        "backend": {"env": "HEADWATER_CELERY_BACKEND"},
        "config_source": CELERY_SETTINGS,
    }


# A worker logs each step's end without its return value (every Dagster event of the
# step, serialized: the run's event log has them).
celery.app.trace.LOG_SUCCESS = "Task %(name)s[%(id)s] succeeded in %(runtime)ss"

settings.export_profile_env()
app = make_app(
    CeleryExecutor.for_cli(
        broker=os.environ.get("HEADWATER_CELERY_BROKER"),
        backend=os.environ.get("HEADWATER_CELERY_BACKEND"),
        config_source=CELERY_SETTINGS,
    ).app_args()
)
execute_plan = create_task(app)


@worker_ready.connect
def _forget_old_results(**_) -> None:
    """Results older than `result_expires` (a day) leave the database backend when a
    worker starts (Celery's own clean-up needs celery beat, which Headwater does not run)."""
    if hasattr(app.backend, "cleanup"):
        app.backend.cleanup()


execute_job = create_execute_job_task(app)
resume_job = create_resume_job_task(app)
