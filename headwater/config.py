"""One validated settings file, one section per domain.

Each domain declares its own pydantic model; `load_section` reads the file once
and turns validation errors into one message naming the file, the key and what
is allowed, so a bad value fails at load instead of in the middle of a run.
"""

import re
from datetime import date
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


# Dagster's two forms of an asset owner (AssetSpec owners), checked here because its own
# check would fail the whole code location without naming the setting.
_TEAM = re.compile(r"team:[A-Za-z0-9_.-]+")
_EMAIL = re.compile(r"[A-Za-z0-9._%+-]+@[A-Za-z0-9.-]+\.[A-Za-z]{2,7}")  # Dagster's pattern


def _owner(value: str) -> str:
    if not (_TEAM.fullmatch(value) or _EMAIL.fullmatch(value)):
        raise ValueError("an owner is an email address or team:<name>")
    return value


# A domain's `owners`: on every asset of the domain (headwater.catalogue).
Owners = Annotated[list[Annotated[str, AfterValidator(_owner)]], Field(min_length=1)]


# The settings file's sections: a misspelt one would otherwise leave its domain on the
# defaults without a word.
SECTIONS = ("energy", "workforce", "prospects", "market", "operations")


@cache
def _read(path: Path) -> dict:
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ConfigError(
            f"{path}: settings file not found (check --config or HEADWATER_CONFIG)"
        ) from None
    except UnicodeDecodeError as exc:
        raise ConfigError(
            f"{path}: not UTF-8 text (byte {exc.start}): expected a YAML settings file"
        ) from None
    try:
        data = yaml.safe_load(text) or {}
    except yaml.YAMLError as exc:
        raise ConfigError(f"{path}: not valid YAML: {_yaml_problem(exc)}") from None
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping of sections at the top level")
    for section in data:
        if section not in SECTIONS:
            raise ConfigError(
                f"{path}: {section}: unknown section; expected one of {', '.join(SECTIONS)}"
            )
    return data


def _yaml_problem(exc: yaml.YAMLError) -> str:
    """PyYAML's error in one line: what is wrong and where (its own text spans lines)."""
    mark = getattr(exc, "problem_mark", None)
    problem = getattr(exc, "problem", None) or str(exc).splitlines()[0]
    where = f" at line {mark.line + 1}, column {mark.column + 1}" if mark else ""
    return f"{problem}{where}"


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
        shown = (
            ""
            if isinstance(got, dict)
            else f" (got {got})"
            if isinstance(got, date)  # as the file has it, not datetime.date(...)
            else f" (got {got!r})"
        )
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
