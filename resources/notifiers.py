"""Where run notifications go: a Slack incoming webhook and an SMTP server.

Each notifier is a `ConfigurableResource` whose secrets (the webhook URL, whose path is the
credential, and the SMTP password) are wired from environment variables with `EnvVar`
(assets/operations/definitions.py). `send` makes a few attempts with exponential backoff
and jitter, then raises `NotifierError`, whose message names the channel and the error and
holds no secret: every text is run through the notifier's `Scrubber` (resources/http.py).
Nothing here logs at a level above DEBUG: the sensor reports each outcome in one line.

Retried: connection errors and timeouts, HTTP 429 (honouring `Retry-After`) and 5xx, SMTP
4xx replies and dropped connections. Not retried: any other HTTP status (a revoked webhook
answers 403/404 for good), SMTP 5xx replies (authentication, refused recipients), TLS
failures, and a configuration that cannot work (credentials without TLS).
"""

import logging
import smtplib
import ssl
import time
from collections.abc import Callable
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Literal
from urllib.error import URLError
from urllib.parse import urlsplit

import dagster as dg
from pydantic import ConfigDict, Field
from slack_sdk.errors import SlackRequestError
from slack_sdk.webhook import WebhookClient

from resources.http import (
    MESSAGE_CHARS,
    Scrubber,
    backoff_seconds,
    host_of,
    install_log_scrubbing,
    retry_after_seconds,
)

SLACK_WEBHOOK_ENV = "HEADWATER_SLACK_WEBHOOK_URL"
SMTP_USERNAME_ENV = "HEADWATER_SMTP_USERNAME"
SMTP_PASSWORD_ENV = "HEADWATER_SMTP_PASSWORD"

MAX_BACKOFF_S = 30.0  # cap on one wait, Retry-After included

log = logging.getLogger(__name__)
# slack_sdk logs every failed attempt at ERROR (and, at DEBUG, the request line with the
# webhook URL). It gets its own logger, quiet below CRITICAL: the sensor says what happened.
_SLACK_SDK_LOG = logging.getLogger(f"{__name__}.slack_sdk")
_SLACK_SDK_LOG.setLevel(logging.CRITICAL)
install_log_scrubbing(__name__, _SLACK_SDK_LOG.name, "slack_sdk", "slack_sdk.webhook.client")


class NotifierError(RuntimeError):
    """A notification that was not delivered; the message is safe to log (no secret)."""

    def __init__(self, channel: str, message: str, *, attempts: int = 1):
        self.channel = channel
        self.attempts = attempts
        tail = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"{message}{tail}")


class _Transient(Exception):
    """One attempt failed in a way that may pass; `wait_s` is the server's Retry-After."""

    def __init__(self, message: str, wait_s: float | None = None):
        super().__init__(message)
        self.wait_s = wait_s


class _Permanent(Exception):
    """One attempt failed in a way another attempt would not fix."""


def _short(text: str, scrub: Scrubber) -> str:
    # Scrub before cutting: a cut could otherwise leave the start of a secret behind.
    text = " ".join(scrub(text).split())
    return (text[:MESSAGE_CHARS] + "...") if len(text) > MESSAGE_CHARS else text


def deliver(
    channel: str,
    attempt: Callable[[], None],
    *,
    scrub: Scrubber,
    max_retries: int,
    backoff_s: float,
    sleep: Callable[[float], None] = time.sleep,
) -> int:
    """Call `attempt` until it succeeds, at most 1 + max_retries times; return the number of
    attempts made, or raise NotifierError (scrubbed) when the last one failed."""
    attempts = max_retries + 1
    with scrub.active():
        for n in range(1, attempts + 1):
            try:
                attempt()
                return n
            except _Permanent as exc:
                raise NotifierError(channel, _short(str(exc), scrub), attempts=n) from None
            except _Transient as exc:
                if n == attempts:
                    raise NotifierError(channel, _short(str(exc), scrub), attempts=n) from None
                wait = exc.wait_s
                delay = (
                    min(wait, MAX_BACKOFF_S)
                    if wait is not None
                    else backoff_seconds(n, backoff_s, MAX_BACKOFF_S)
                )
                log.debug("%s: %s; retry %d/%d in %.2f s", channel, exc, n, max_retries, delay)
                sleep(delay)
    raise AssertionError("unreachable")


class _Notifier(dg.ConfigurableResource):
    # A field that fails validation must not print what it was given (it may be a secret).
    model_config = ConfigDict(hide_input_in_errors=True)

    timeout_s: float = Field(default=5.0, gt=0, description="Per attempt (connect and read)")
    max_retries: int = Field(default=2, ge=0, description="Retries after the first attempt")
    backoff_s: float = Field(
        default=1.0, ge=0, description="First retry's backoff, doubled each retry (with jitter)"
    )

    def _secrets(self) -> list[str]:
        return []

    def scrubber(self) -> Scrubber:
        """Every secret this notifier holds, for scrubbing any text that may contain one."""
        return Scrubber(self._secrets())

    def missing(self) -> str | None:
        """Why this notifier cannot send (an environment variable not set), or None."""
        return None

    def target(self) -> str:
        """Where messages go, as safe to show (no path, user or password)."""
        raise NotImplementedError


class SlackWebhookNotifier(_Notifier):
    """Posts a message to a Slack incoming webhook (`slack_sdk.webhook.WebhookClient`)."""

    webhook_url: str | None = Field(
        default=None,
        repr=False,
        description=f"The incoming webhook's URL, a secret; wire it from EnvVar('{SLACK_WEBHOOK_ENV}')",
    )

    def _secrets(self) -> list[str]:
        if not self.webhook_url:
            return []
        # The whole URL, its path, and the path's token segments: each alone grants posting.
        path = urlsplit(self.webhook_url).path
        segments = [s for s in path.split("/") if len(s) >= 8 and s != "services"]
        return [self.webhook_url, path if len(path) > 1 else None, *segments]

    def missing(self) -> str | None:
        return None if self.webhook_url else f"{SLACK_WEBHOOK_ENV} is not set"

    def target(self) -> str:
        return host_of(self.webhook_url or "")

    def send(self, payload: dict) -> int:
        """POST `payload` (Slack's message JSON); return the attempts made. Raises
        NotifierError when it was not delivered."""
        if not self.webhook_url:
            raise NotifierError("slack", f"{SLACK_WEBHOOK_ENV} is not set")
        scrub = self.scrubber()
        # Retries are ours (same policy as email, 5xx included); slack_sdk's are off.
        client = WebhookClient(
            url=self.webhook_url,
            timeout=self.timeout_s,  # type: ignore[arg-type]  (urlopen takes a float)
            retry_handlers=[],
            logger=_SLACK_SDK_LOG,
        )
        where = f"POST {self.target()}"

        def attempt() -> None:
            try:
                response = client.send_dict(payload)
            except SlackRequestError as exc:  # a URL that is not http(s)
                raise _Permanent(f"{where}: invalid webhook URL ({exc})") from None
            except URLError as exc:
                raise _Transient(f"{where}: connection failed ({_reason(exc.reason)})") from None
            except (TimeoutError, OSError) as exc:  # timeouts, resets, dropped connections
                raise _Transient(f"{where}: connection failed ({_reason(exc)})") from None
            status = response.status_code
            if 200 <= status < 300:
                return
            body = _short(str(response.body or ""), scrub) or "(no body)"
            message = f"{where} -> HTTP {status}: {body}"
            if status == 429 or status >= 500:
                headers = {k.lower(): v for k, v in (response.headers or {}).items()}
                raise _Transient(message, retry_after_seconds(_first(headers.get("retry-after"))))
            raise _Permanent(message)

        return deliver(
            "slack",
            attempt,
            scrub=scrub,
            max_retries=self.max_retries,
            backoff_s=self.backoff_s,
        )


class EmailNotifier(_Notifier):
    """Sends a message through an SMTP server (`smtplib`): STARTTLS when the server offers
    it (`starttls: auto`), login only when a username and password are set."""

    smtp_host: str = Field(default="localhost", min_length=1)
    smtp_port: int = Field(default=25, ge=1, le=65535)
    starttls: Literal["auto", "always", "never"] = Field(
        default="auto",
        description="auto: when the server offers it; always: fail without it; never: plain",
    )
    tls_ca_file: str | None = Field(
        default=None, description="CA bundle that signed the server's certificate (default: system)"
    )
    from_addr: str = Field(default="headwater@localhost", min_length=3)
    to_addrs: list[str] = Field(default_factory=list)
    username: str | None = Field(
        default=None, description=f"Wire it from EnvVar('{SMTP_USERNAME_ENV}'); unset: no login"
    )
    password: str | None = Field(
        default=None,
        repr=False,
        description=f"A secret; wire it from EnvVar('{SMTP_PASSWORD_ENV}')",
    )

    def _secrets(self) -> list[str]:
        return [self.password] if self.password else []

    def missing(self) -> str | None:
        if self.username and not self.password:
            return f"{SMTP_USERNAME_ENV} is set but {SMTP_PASSWORD_ENV} is not"
        if self.password and not self.username:
            return f"{SMTP_PASSWORD_ENV} is set but {SMTP_USERNAME_ENV} is not"
        if not self.to_addrs:
            return "no recipient (operations.notifications.email.to_addrs)"
        return None

    def target(self) -> str:
        return f"smtp://{self.smtp_host}:{self.smtp_port}"

    def send(self, message: EmailMessage) -> int:
        """Send `message` to `to_addrs` (From, To, Date and Message-ID are set here); return
        the attempts made. Raises NotifierError when it was not delivered."""
        problem = self.missing()
        if problem:
            raise NotifierError("email", problem)
        scrub = self.scrubber()
        for header, value in (
            ("From", self.from_addr),
            ("To", ", ".join(self.to_addrs)),
            ("Date", formatdate(localtime=True)),
            ("Message-ID", make_msgid(domain=self.from_addr.rpartition("@")[2] or None)),
        ):
            del message[header]
            message[header] = value
        where = self.target()

        def attempt() -> None:
            try:
                self._send_once(message)
            except _Permanent as exc:
                raise _Permanent(f"{where}: {exc}") from None
            except ssl.SSLError as exc:  # before OSError: a certificate will not fix itself
                raise _Permanent(f"{where}: TLS failed ({_reason(exc)})") from None
            except smtplib.SMTPRecipientsRefused as exc:
                refused = "; ".join(f"{r}: {_reply(c, m)}" for r, (c, m) in exc.recipients.items())
                raise _Permanent(f"{where}: recipients refused ({refused})") from None
            except smtplib.SMTPResponseException as exc:
                reply = f"{where}: {_reply(exc.smtp_code, exc.smtp_error)}"
                if 400 <= exc.smtp_code < 500:
                    raise _Transient(reply) from None
                raise _Permanent(reply) from None
            except smtplib.SMTPServerDisconnected as exc:
                raise _Transient(f"{where}: disconnected ({exc})") from None
            except smtplib.SMTPException as exc:
                raise _Permanent(f"{where}: {type(exc).__name__}: {exc}") from None
            except OSError as exc:  # refused, timed out, reset, unknown host
                raise _Transient(f"{where}: connection failed ({_reason(exc)})") from None

        return deliver(
            "email", attempt, scrub=scrub, max_retries=self.max_retries, backoff_s=self.backoff_s
        )

    def _send_once(self, message: EmailMessage) -> None:
        with smtplib.SMTP(self.smtp_host, self.smtp_port, timeout=self.timeout_s) as smtp:
            smtp.ehlo()
            secure = False
            if self.starttls != "never" and smtp.has_extn("starttls"):
                smtp.starttls(context=ssl.create_default_context(cafile=self.tls_ca_file))
                smtp.ehlo()  # the server's extensions may differ once encrypted (AUTH)
                secure = True
            elif self.starttls == "always":
                raise _Permanent("the server offers no STARTTLS (starttls: always)")
            if self.username and self.password:
                if not secure and self.starttls != "never":
                    raise _Permanent(
                        "the server offers no STARTTLS: the password is not sent in clear "
                        "(set starttls: never to allow it)"
                    )
                smtp.login(self.username, self.password)
            smtp.send_message(message, from_addr=self.from_addr, to_addrs=self.to_addrs)


def _reason(exc: object) -> str:
    if isinstance(exc, BaseException):
        text = str(exc) or type(exc).__name__
        return f"{type(exc).__name__}: {text}" if type(exc).__name__ not in text else text
    return str(exc)


def _reply(code: int, message: bytes | str) -> str:
    text = message.decode(errors="replace") if isinstance(message, bytes) else str(message)
    return f"SMTP {code} {text}"


def _first(value: object) -> str | None:
    if isinstance(value, list | tuple):
        return str(value[0]) if value else None
    return None if value is None else str(value)
