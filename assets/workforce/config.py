"""Simulation assumptions: the `workforce:` section of config/headwater.yaml.

Every key has a documented default (README, "Workforce simulation"), so an empty
section is a valid plan. Unknown keys are rejected, and cross-field rules (levels
present in every table, shares summing to one, tiers ascending) fail at load with
the key named, before any year runs.
"""

from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from headwater.config import Owners, load_section

Rate = Annotated[float, Field(ge=0.0, le=1.0)]
Money = Annotated[float, Field(gt=0.0)]

DEFAULT_LEVELS = (1, 2, 3, 4, 5)
DEFAULT_MIN_AGE_AT_HIRE = 14

# The standard census columns (assets.workforce.census reads files into them).
CENSUS_REQUIRED = ["employee_id", "birth_date", "hire_date", "gross_compensation"]
CENSUS_OPTIONAL = ["termination_date", "level", "deferral_rate"]
CENSUS_COLUMNS = CENSUS_REQUIRED + CENSUS_OPTIONAL


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class CensusSettings(_Strict):
    path: str | None = None  # CSV or Parquet; None = the generated sample census
    sample_size: int = Field(default=1000, ge=10, le=1_000_000)
    # W-R11. Strict, so `true` or "14" is refused rather than read as a number.
    min_age_at_hire: int = Field(default=DEFAULT_MIN_AGE_AT_HIRE, ge=0, le=100, strict=True)
    # Standard census column -> the name of that column in the user's file; standard
    # columns not listed are looked up under their own name.
    columns: dict[str, str] = {}

    @field_validator("columns")
    @classmethod
    def _known_columns(cls, columns: dict[str, str]) -> dict[str, str]:
        for standard, name in columns.items():
            if standard not in CENSUS_COLUMNS:
                raise ValueError(
                    f"workforce.census.columns.{standard}: not a census column; the keys are "
                    f"the standard names {CENSUS_COLUMNS}, the values your file's names"
                )
            if not name.strip():
                raise ValueError(
                    f"workforce.census.columns.{standard}: needs the name of a column in the "
                    "census file (got an empty name)"
                )
        # Stripped like the CSV header names they must match.
        columns = {standard: name.strip() for standard, name in columns.items()}
        names = list(columns.values())
        shared = sorted({n for n in names if names.count(n) > 1})
        if shared:
            raise ValueError(
                f"workforce.census.columns: each file column can feed one standard column "
                f"(got {shared} more than once)"
            )
        return columns


class TerminationSettings(_Strict):
    # Lower bounds (years of tenure) of the tenure bands; rates[level][i] applies from
    # tenure_bands[i] up to the next bound.
    tenure_bands: list[Annotated[float, Field(ge=0)]] = [0, 2, 5, 10]
    rates: dict[int, list[Rate]] = {
        1: [0.22, 0.16, 0.12, 0.09],
        2: [0.18, 0.13, 0.10, 0.08],
        3: [0.15, 0.11, 0.08, 0.06],
        4: [0.12, 0.09, 0.07, 0.05],
        5: [0.10, 0.08, 0.06, 0.05],
    }
    new_hire_rate: Annotated[float, Field(ge=0.0, le=0.9)] = 0.25

    @model_validator(mode="after")
    def _bands(self):
        bands = self.tenure_bands
        if (
            not bands
            or bands[0] != 0
            or any(b <= a for a, b in zip(bands, bands[1:], strict=False))
        ):
            raise ValueError(
                "workforce.termination.tenure_bands: must start at 0 and be strictly ascending "
                f"(got {bands})"
            )
        for level, rates in self.rates.items():
            if len(rates) != len(bands):
                raise ValueError(
                    f"workforce.termination.rates[{level}]: needs one rate per tenure band "
                    f"({len(bands)}), got {len(rates)}"
                )
        return self


class PromotionSettings(_Strict):
    rates: dict[int, Rate] = {1: 0.12, 2: 0.10, 3: 0.07, 4: 0.04, 5: 0.0}
    raise_pct: Annotated[float, Field(ge=0.0, le=1.0)] = 0.10
    min_tenure_years: Annotated[float, Field(ge=0)] = 1.0


class CompensationSettings(_Strict):
    merit_budget: dict[int, Rate] = {1: 0.035, 2: 0.035, 3: 0.03, 4: 0.03, 5: 0.025}
    cola: Annotated[float, Field(ge=0.0, le=0.25)] = 0.02
    new_hire_pay: dict[int, tuple[Money, Money]] = {
        1: (48_000, 62_000),
        2: (62_000, 85_000),
        3: (85_000, 120_000),
        4: (120_000, 170_000),
        5: (170_000, 260_000),
    }
    # Share of each year's hires that join at each level.
    new_hire_mix: dict[int, Rate] = {1: 0.45, 2: 0.30, 3: 0.15, 4: 0.08, 5: 0.02}

    @model_validator(mode="after")
    def _pay_and_mix(self):
        for level, (low, high) in self.new_hire_pay.items():
            if high < low:
                raise ValueError(
                    f"workforce.compensation.new_hire_pay[{level}]: [min, max] with min <= max "
                    f"(got [{low}, {high}])"
                )
        total = sum(self.new_hire_mix.values())
        if abs(total - 1.0) > 1e-6:
            raise ValueError(
                f"workforce.compensation.new_hire_mix: shares must sum to 1 (got {total:g})"
            )
        return self


class AutoEnrollmentSettings(_Strict):
    enabled: bool = True
    window_days: int = Field(default=45, ge=0, le=365)
    default_deferral_rate: Rate = 0.03
    # Share of auto-enrolled new hires, by level, who opt out within the window.
    opt_out_rates: dict[int, Rate] = {1: 0.20, 2: 0.15, 3: 0.10, 4: 0.07, 5: 0.05}


class VoluntaryEnrollmentSettings(_Strict):
    annual_rate: Rate = 0.08  # chance a non-participant enrolls during a year
    deferral_rate: Rate = 0.06


class EnrollmentSettings(_Strict):
    auto: AutoEnrollmentSettings = AutoEnrollmentSettings()
    voluntary: VoluntaryEnrollmentSettings = VoluntaryEnrollmentSettings()


class EscalationSettings(_Strict):
    enabled: bool = True
    increment: Annotated[float, Field(gt=0.0, le=0.05)] = 0.01
    cap: Rate = 0.10


class MatchTier(_Strict):
    up_to: Annotated[float, Field(gt=0.0, le=1.0)]  # deferral rate this tier ends at
    rate: Annotated[float, Field(ge=0.0, le=2.0)]  # match per dollar deferred in the tier


class EmployerSettings(_Strict):
    match_tiers: list[MatchTier] = [
        MatchTier(up_to=0.03, rate=1.0),
        MatchTier(up_to=0.05, rate=0.5),
    ]
    core_rate: Annotated[float, Field(ge=0.0, le=0.25)] = 0.02

    @model_validator(mode="after")
    def _tiers(self):
        bounds = [t.up_to for t in self.match_tiers]
        if any(b <= a for a, b in zip(bounds, bounds[1:], strict=False)):
            raise ValueError(
                f"workforce.employer.match_tiers: up_to must be strictly ascending (got {bounds})"
            )
        return self


class IrsLimits(_Strict):
    deferral: Money  # 402(g) elective deferral limit
    catch_up: Annotated[float, Field(ge=0.0)]  # extra deferral at catch_up_age and over
    compensation: Money  # 401(a)(17) compensation limit
    annual_additions: Money  # 415(c) limit on employee + employer additions


class CheckSettings(_Strict):
    hire_termination_ratio: tuple[Annotated[float, Field(ge=0)], Annotated[float, Field(gt=0)]] = (
        0.2,
        5.0,
    )
    growth_tolerance: Annotated[float, Field(ge=0.0, le=1.0)] = 0.005
    max_raise: Annotated[float, Field(gt=0.0, le=5.0)] = 0.35
    failing_ids_shown: int = Field(default=20, ge=1, le=1000)


class WorkforceConfig(_Strict):
    start_year: int = Field(default=2025, ge=1990, le=2100)
    end_year: int = Field(default=2029, ge=1990, le=2100)
    random_seed: int = Field(default=42, ge=0, le=2**31 - 1)
    target_growth_rate: Annotated[float, Field(ge=-0.5, le=1.0)] = 0.03
    catch_up_age: int = Field(default=50, ge=18, le=100)
    # On every asset of the domain (emails or team:<name>): the UI's owner column and filter.
    owners: Owners = ["team:workforce"]
    census: CensusSettings = CensusSettings()
    termination: TerminationSettings = TerminationSettings()
    promotion: PromotionSettings = PromotionSettings()
    compensation: CompensationSettings = CompensationSettings()
    enrollment: EnrollmentSettings = EnrollmentSettings()
    escalation: EscalationSettings = EscalationSettings()
    employer: EmployerSettings = EmployerSettings()
    irs_limits: dict[int, IrsLimits] = {
        2024: IrsLimits(
            deferral=23_000, catch_up=7_500, compensation=345_000, annual_additions=69_000
        ),
        2025: IrsLimits(
            deferral=23_500, catch_up=7_500, compensation=350_000, annual_additions=70_000
        ),
        2026: IrsLimits(
            deferral=24_500, catch_up=8_000, compensation=360_000, annual_additions=72_000
        ),
    }
    checks: CheckSettings = CheckSettings()

    @model_validator(mode="after")
    def _consistent(self):
        if self.end_year < self.start_year:
            raise ValueError(
                f"workforce.end_year: must be >= start_year {self.start_year} (got {self.end_year})"
            )
        if self.end_year - self.start_year > 50:
            raise ValueError("workforce.end_year: at most 50 years after start_year")
        levels = sorted(self.promotion.rates)
        tables = {
            "workforce.termination.rates": self.termination.rates,
            "workforce.compensation.merit_budget": self.compensation.merit_budget,
            "workforce.compensation.new_hire_pay": self.compensation.new_hire_pay,
            "workforce.compensation.new_hire_mix": self.compensation.new_hire_mix,
            "workforce.enrollment.auto.opt_out_rates": self.enrollment.auto.opt_out_rates,
        }
        if not levels or levels != list(range(1, len(levels) + 1)):
            raise ValueError(
                f"workforce.promotion.rates: levels must be 1..N without gaps (got {levels})"
            )
        for key, table in tables.items():
            if sorted(table) != levels:
                raise ValueError(f"{key}: needs exactly the levels {levels} (got {sorted(table)})")
        if not any(y <= self.start_year for y in self.irs_limits):
            raise ValueError(
                f"workforce.irs_limits: needs limits for start_year {self.start_year} or an "
                f"earlier year (got years {sorted(self.irs_limits)})"
            )
        return self

    @property
    def levels(self) -> list[int]:
        return sorted(self.promotion.rates)

    def years(self) -> list[int]:
        return list(range(self.start_year, self.end_year + 1))

    def irs_limits_for(self, year: int) -> IrsLimits:
        """The latest configured limits at or before `year` (carried forward, not indexed)."""
        known = [y for y in self.irs_limits if y <= year]
        return self.irs_limits[max(known)]


def load_workforce_config(
    path: Path | str | None = None,
    *,
    census_path: str | None = None,
    random_seed: int | None = None,
) -> WorkforceConfig:
    """Validated assumptions, with the CLI's overrides (census file, seed) applied."""
    cfg = load_section("workforce", WorkforceConfig, Path(path) if path else None)
    updates: dict = {}
    if census_path is not None:
        updates["census"] = cfg.census.model_copy(update={"path": census_path})
    if random_seed is not None:
        if not 0 <= random_seed <= 2**31 - 1:
            from headwater.config import ConfigError

            raise ConfigError(f"--seed: must be between 0 and {2**31 - 1} (got {random_seed})")
        updates["random_seed"] = random_seed
    return cfg.model_copy(update=updates) if updates else cfg


# The loader `headwater doctor` finds by the section's name (assets.<section>.config).
load_config = load_workforce_config
