import warnings

import dagster as dg

# BackfillPolicy.single_run() is how a partition range becomes one run (DESIGN.md); its
# beta label would otherwise print on every load of the code location.
warnings.filterwarnings("ignore", message="Parameter `backfill_policy`", category=dg.BetaWarning)
