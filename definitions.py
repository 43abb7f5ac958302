"""The Headwater code location: each domain's Definitions plus the shared resources.

DOMAINS is what the commands (headwater.cli) iterate over: each domain's interface
(headwater.domain.Domain), in the order they report.
"""

import dagster as dg

from assets.energy.definitions import DOMAIN as energy
from assets.market.definitions import DOMAIN as market
from assets.operations.definitions import DOMAIN as operations
from assets.prospects.definitions import DOMAIN as prospects
from assets.workforce.definitions import DOMAIN as workforce
from resources import definitions as shared

DOMAINS = (energy, workforce, prospects, market, operations)

defs = dg.Definitions.merge(shared.defs, *(domain.defs for domain in DOMAINS))
