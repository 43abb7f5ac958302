"""The Headwater code location: each domain's Definitions plus the shared resources."""

import dagster as dg

from assets.energy import definitions as energy
from assets.market import definitions as market
from assets.operations import definitions as operations
from assets.prospects import definitions as prospects
from assets.workforce import definitions as workforce
from resources import definitions as shared

defs = dg.Definitions.merge(
    shared.defs, operations.defs, energy.defs, workforce.defs, prospects.defs, market.defs
)
