"""Source clients for the prospects domain: one resource per source, `mode: sample | live`.

`extract(year)` returns an `Extract`: a local file in the source's real layout plus where
it came from. Sample mode generates the deterministic sample files (assets.prospects.
sample_data) and points at them; live mode downloads the configured URL (`{year}` is the
draft year) through the project's retrying HTTP client into `download_dir`, atomically, and
points at the copy. The extraction id is the source, the year and the first 12 hex digits
of the file's SHA-256: the same bytes always load as the same extraction, so a rerun leaves
the same tables.
"""

import hashlib
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import dagster as dg
import requests
from pydantic import Field, model_validator

from assets.prospects import sample_data
from headwater import settings
from headwater.files import write_atomic
from resources.http import SourceConfigError, display_url, get_bytes

FILE_NAMES = {  # the name a file of each source has, in samples, downloads and the inbox
    "nfl": "combine_{year}.csv",
    "cfr": "stats_{year}.csv",
    "pff": "grades_{year}.csv",
    "yahoo": "stats_{year}.json",
    "espn": "injuries_{year}.json",
}
USER_AGENT = "headwater/0.1 (+https://github.com/headwater)"


@dataclass(frozen=True)
class Extract:
    source: str
    draft_year: int
    path: Path  # the local file to parse
    location: str  # what was read: the URL (no credentials) or the file's path
    sha256: str
    size: int
    whole_history: bool = False  # the file holds every season (nflverse): filter by season

    @property
    def extraction_id(self) -> str:
        return f"{self.source}-{self.draft_year}-{self.sha256[:12]}"


def extract_of(source: str, year: int, path: Path, location: str | None = None, **kw) -> Extract:
    """Describe a local file as an extraction (hashing its bytes)."""
    data = Path(path).read_bytes()
    return Extract(
        source,
        year,
        Path(path),
        location or str(path),
        hashlib.sha256(data).hexdigest(),
        len(data),
        **kw,
    )


class ProspectSource(dg.ConfigurableResource):
    source: Literal["nfl", "cfr", "pff", "yahoo", "espn"]
    mode: Literal["sample", "live"] = Field(
        default="sample", description="sample: generated files; live: download `url`"
    )
    url: str | None = Field(
        default=None,
        description="Live mode: the export's URL; `{year}` is replaced by the draft year",
    )
    sample_dir: str = Field(
        default=str(settings.sample_dir() / "prospects"),
        description="Where sample files are generated and read (sample mode)",
    )
    download_dir: str = Field(
        default=str(settings.data_dir() / "downloads" / "prospects"),
        description="Where live downloads are kept (one file per source and draft year)",
    )
    sample_years: list[int] = Field(
        default=list(sample_data.DEFAULT_DRAFT_YEARS),
        description="Draft years the sample generator writes",
    )
    timeout_s: float = Field(default=60.0, gt=0)
    max_retries: int = Field(default=4, ge=0)
    backoff_s: float = Field(default=1.0, ge=0)

    @model_validator(mode="after")
    def _live_needs_url(self):
        if self.mode == "live" and not self.url:
            raise SourceConfigError(
                f"prospects source {self.source}: mode is live but no URL is set "
                f"(prospects.urls.{self.source} in the settings file)"
            )
        if self.url and self.mode != "live":
            raise SourceConfigError(
                f"prospects source {self.source}: a URL is set but mode is {self.mode!r}; "
                "set HEADWATER_MODE=live to download it, or drop the URL"
            )
        return self

    def data_origin(self) -> str:
        if self.mode == "live":
            return f"live {display_url(self.url or '', None)}"
        return f"sample files in {self.sample_dir}"

    def extract(self, year: int) -> Extract:
        """The source's file for draft year `year`, local, hashed."""
        name = FILE_NAMES[self.source].format(year=year)
        if self.mode == "sample":
            out = Path(self.sample_dir)
            sample_data.ensure_sample_data(out, sorted({*self.sample_years, year}))
            path = sample_data.sample_paths(out, year)[self.source]
            return extract_of(self.source, year, path)
        url = self.url.format(year=year)
        with requests.Session() as session:
            session.headers["User-Agent"] = USER_AGENT
            data = get_bytes(
                session,
                f"prospects {self.source}",
                url,
                None,
                timeout_s=self.timeout_s,
                max_retries=self.max_retries,
                backoff_s=self.backoff_s,
            )
        path = Path(self.download_dir) / self.source / name
        write_atomic(path, data)
        return extract_of(
            self.source, year, path, display_url(url, None), whole_history="{year}" not in self.url
        )
