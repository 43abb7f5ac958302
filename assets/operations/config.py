"""Operations settings: the `operations:` section of config/headwater.yaml, validated at load.

Only what may be written in a file lives here (which channel is on, for which outcome, the
SMTP server, retries); the secrets (the Slack webhook URL, the SMTP username and password)
come from environment variables only (resources/notifiers.py).
"""

from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

from headwater.config import load_section
from headwater.settings import REPO_ROOT

Outcome = Literal["success", "partial", "failure"]
OUTCOMES: tuple[Outcome, ...] = ("success", "partial", "failure")

DEFAULT_UI_BASE_URL = "http://127.0.0.1:3000"
# The daemon gives a sensor evaluation 60 s (DAGSTER_SENSOR_GRPC_TIMEOUT_SECONDS); one run's
# notifications through two dead channels must fit in it with room to spare.
MAX_CHANNEL_SECONDS = 25.0


def _email_address(value: str) -> str:
    if "@" not in value or any(c.isspace() for c in value):
        raise ValueError(f"{value!r} is not an email address (name@host)")
    return value


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Channel(_Strict):
    enabled: bool = False
    notify_on: list[Outcome] = ["failure", "partial"]

    @model_validator(mode="before")
    @classmethod
    def _bare_on(cls, data: Any) -> Any:
        # YAML 1.1 (PyYAML) reads a bare `on:` key as the boolean true.
        if isinstance(data, dict) and True in data:
            raise ValueError("write notify_on: [...] (YAML reads a bare `on:` key as true)")
        return data

    @field_validator("notify_on")
    @classmethod
    def _unique(cls, value: list[Outcome]) -> list[Outcome]:
        if len(set(value)) != len(value):
            raise ValueError("lists an outcome twice")
        return value

    def wants(self, outcome: Outcome) -> bool:
        return self.enabled and outcome in self.notify_on


class SlackChannel(Channel):
    """The webhook URL is the secret HEADWATER_SLACK_WEBHOOK_URL, never a setting."""


class EmailChannel(Channel):
    smtp_host: str = Field(default="localhost", min_length=1)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    starttls: Literal["auto", "always", "never"] = "auto"
    tls_ca_file: Path | None = None
    from_addr: str = "headwater@localhost"
    to_addrs: list[str] = []

    @field_validator("from_addr")
    @classmethod
    def _address(cls, value: str) -> str:
        return _email_address(value)

    @field_validator("to_addrs")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        return [_email_address(address) for address in value]

    @field_validator("tls_ca_file")
    @classmethod
    def _ca_file(cls, value: Path | None) -> Path | None:
        if value is None:
            return None
        path = value.expanduser()
        path = path if path.is_absolute() else REPO_ROOT / path
        if not path.is_file():
            raise ValueError(f"no such file: {path}")
        return path

    @model_validator(mode="after")
    def _recipients(self) -> "EmailChannel":
        if self.enabled and not self.to_addrs:
            raise ValueError("to_addrs: at least one recipient is required when enabled")
        return self


class Notifications(_Strict):
    slack: SlackChannel = SlackChannel()
    email: EmailChannel = EmailChannel()
    timeout_s: float = Field(default=5.0, gt=0)
    max_retries: int = Field(default=2, ge=0, le=5)
    backoff_s: float = Field(default=1.0, ge=0)

    def worst_case_s(self) -> float:
        """The longest one channel may take on one run: every attempt timing out, plus the
        longest backoffs between them."""
        waits = sum(self.backoff_s * 2**n for n in range(self.max_retries))
        return self.timeout_s * (self.max_retries + 1) + waits

    @model_validator(mode="after")
    def _fits_a_tick(self) -> "Notifications":
        if self.worst_case_s() > MAX_CHANNEL_SECONDS:
            raise ValueError(
                f"a channel that never answers could take {self.worst_case_s():g} s per run "
                f"(timeout_s x (1 + max_retries) + backoffs), more than {MAX_CHANNEL_SECONDS:g} s: "
                "the daemon stops a sensor evaluation after 60 s; lower timeout_s, "
                "max_retries or backoff_s"
            )
        return self


class OperationsConfig(_Strict):
    # Links in notifications: {ui_base_url}/runs/{run_id}.
    ui_base_url: str = DEFAULT_UI_BASE_URL
    notifications: Notifications = Notifications()

    @field_validator("ui_base_url")
    @classmethod
    def _url(cls, value: str) -> str:
        if not value.startswith(("http://", "https://")) or any(c.isspace() for c in value):
            raise ValueError("must be an http:// or https:// URL")
        return value.rstrip("/")


def load_operations_config(path=None) -> OperationsConfig:
    return load_section("operations", OperationsConfig, path)


# The loader `headwater doctor` finds by the section's name (assets.<section>.config).
load_config = load_operations_config
