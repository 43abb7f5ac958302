"""The Headwater code location: each domain's Definitions plus the shared resources."""

import dagster as dg

from assets.energy.definitions import defs as energy_defs
from assets.workforce.definitions import defs as workforce_defs
from resources.definitions import defs as shared_defs

defs = dg.Definitions.merge(shared_defs, energy_defs, workforce_defs)
