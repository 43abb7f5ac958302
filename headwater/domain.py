"""What a domain offers the commands: one small interface each domain's definitions module
fills in (`DOMAIN`), so the commands iterate over domains and name none.

    DOMAIN = Domain(
        name="energy",
        defs=defs,
        demo_plan=[...],            # what `headwater demo` runs, in order
        status_queries={...},       # what `headwater status` reads from the warehouse ...
        freshness=freshness_rows,   # ... and shows beside its freshness policies' states
        ingest=EnergyIngest(),      # the APIs `headwater ingest --api` loads, and the plan
    )

The root definitions.py lists the domains (definitions.DOMAINS) and merges their
Definitions; a fifth domain is one more entry there and touches no command.
"""

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import dagster as dg

from headwater.freshness import Freshness, StatusInputs
from headwater.plans import IngestJob, IngestRequest, Plan

# A job to run and its partition range (None: unpartitioned); clock.TODAY in a range is
# the day the run starts.
DemoStep = tuple[str, tuple[str, str] | None]


class Ingest(Protocol):
    """A domain's part of `headwater ingest`."""

    # The values of --api this domain loads, and the options beyond the dates it takes.
    apis: tuple[str, ...]
    options: tuple[str, ...]

    def plan(self, request: IngestRequest) -> Plan:
        """Check the request against the domain's partitions and settings (BadParameter,
        one line) and turn it into runs."""
        ...

    def jobs(self, config_path: Path | None) -> Mapping[str, IngestJob]:
        """Predefined requests by name (`headwater ingest --job NAME`)."""
        ...

    # A domain with "files" in `options` also has `plan_files(paths, dataset, config_path)
    # -> Plan` (`headwater ingest --api API --files PATH...`): the files' own schemas and
    # times as runs, BadParameter (one line) for a file refused.


@dataclass(frozen=True)
class Domain:
    name: str
    defs: dg.Definitions
    demo_plan: Sequence[DemoStep] = ()
    # name -> (table, static SQL); each runs only when its table exists, and its rows
    # (key, value) reach `freshness` as a dict.
    status_queries: Mapping[str, tuple[str, str]] = field(default_factory=dict)
    # Its rows of `headwater status`'s freshness: its assets' freshness policies (on the
    # specs in `defs`, evaluated by the daemon) with the newest data beside them
    # (headwater.freshness.policy_rows), or why it has none.
    freshness: Callable[[StatusInputs], list[Freshness]] | None = None
    ingest: Ingest | None = None
