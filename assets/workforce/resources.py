"""Where the workforce assets get their assumptions: the settings file plus run overrides."""

import dagster as dg

from assets.workforce.config import WorkforceConfig, load_workforce_config


class WorkforceSettings(dg.ConfigurableResource):
    """`config_path` defaults to HEADWATER_CONFIG / config/headwater.yaml; `census_path`
    and `random_seed` override the file (the CLI's --census and --seed)."""

    config_path: str | None = None
    census_path: str | None = None
    random_seed: int | None = None

    def load(self) -> WorkforceConfig:
        return load_workforce_config(
            self.config_path, census_path=self.census_path, random_seed=self.random_seed
        )
