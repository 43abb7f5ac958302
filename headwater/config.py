"""One validated settings file, one section per domain.

Each domain declares its own pydantic model; `load_section` reads the file once
and turns validation errors into one message naming the file, the key and what
is allowed, so a bad value fails at load instead of in the middle of a run.
"""

from functools import cache
from pathlib import Path
from typing import Annotated, TypeVar
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import AfterValidator, BaseModel, Field, ValidationError

from headwater import settings

M = TypeVar("M", bound=BaseModel)


class ConfigError(settings.SettingsError):
    """A settings file that cannot be used; the message names the key."""


def _time_zone(value: str) -> str:
    try:
        ZoneInfo(value)
    except (ZoneInfoNotFoundError, ValueError):
        raise ValueError(f"unknown IANA time zone {value!r}") from None
    return value


# Field types every domain's schedule settings share.
TimeZone = Annotated[str, AfterValidator(_time_zone)]
ClockTime = Annotated[str, Field(pattern=r"^([01]\d|2[0-3]):[0-5]\d$")]


@cache
def _read(path: Path) -> dict:
    try:
        text = path.read_text()
    except FileNotFoundError:
        raise ConfigError(f"{path}: settings file not found (set HEADWATER_CONFIG)") from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {exc}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    return data


def _key(loc: tuple) -> str:
    out = ""
    for part in loc:
        out += f"[{part}]" if isinstance(part, int) else (f".{part}" if out else str(part))
    return out


def format_validation_error(path: Path | str, section: str, exc: ValidationError) -> str:
    lines = []
    for err in exc.errors():
        key = _key((section, *err["loc"]))
        got = err.get("input")
        shown = "" if isinstance(got, dict) else f" (got {got!r})"
        lines.append(f"{path}: {key}: {err['msg']}{shown}")
    return "\n".join(lines)


def validate_section(data: dict, section: str, model: type[M], path: Path | str = "<config>") -> M:
    try:
        return model.model_validate(data.get(section) or {})
    except ValidationError as exc:
        raise ConfigError(format_validation_error(path, section, exc)) from None


def load_section(section: str, model: type[M], path: Path | None = None) -> M:
    """Validate one section of the settings file (default: settings.config_path())."""
    path = path or settings.config_path()
    return validate_section(_read(path), section, model, path)
