"""GET a JSON document with request-level retries, shared by the source clients.

Retried: HTTP 429 (honouring `Retry-After`, seconds or HTTP-date, capped), 5xx, timeouts
and connection errors, with exponential backoff and jitter. Not retried: any other 4xx
(a bad key or a bad request will not fix itself) and malformed JSON.

Secrets (the `secret_params`, e.g. `api_key`) never leave this module: error messages and
log lines carry the URL with `api_key=***`, server messages are scrubbed of the key's
value, and no exception that held the real URL is chained to the one raised.
"""

import email.utils
import logging
import random
import re
import time
from collections.abc import Iterable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Any
from urllib.parse import urlencode

import requests

log = logging.getLogger(__name__)

SECRET_PARAMS = ("api_key",)
Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


class SourceError(RuntimeError):
    """A source request that failed for good; the message is safe to log (no key)."""

    def __init__(
        self, source: str, url: str, status: int | None, message: str, *, attempts: int = 1
    ):
        self.source = source
        self.url = url  # redacted
        self.status = status
        self.message = message
        self.attempts = attempts
        outcome = f"HTTP {status}" if status is not None else "no response"
        tail = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"{source}: GET {url} -> {outcome}: {message}{tail}")


# ---- redaction --------------------------------------------------------------------------------

_KEY_IN_TEXT = re.compile(r"((?:api_key|apikey|api-key|token)=)[^&\s'\"]+", re.IGNORECASE)


def _items(params: Params | None) -> list[tuple[str, Any]]:
    if params is None:
        return []
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def redact(text: str, secrets: Iterable[str] = ()) -> str:
    """`text` with every secret value and every `api_key=...` query value replaced by ***."""
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return _KEY_IN_TEXT.sub(r"\1***", text)


def display_url(
    url: str, params: Params | None, secret_params: Sequence[str] = SECRET_PARAMS
) -> str:
    """The request URL as people read it (brackets unescaped), secrets shown as ***."""
    shown = [(k, "***" if k in secret_params else v) for k, v in _items(params) if v is not None]
    return f"{url}?{urlencode(shown, safe='[]*:,/')}" if shown else url


class _RedactQueryKeys(logging.Filter):
    """urllib3 logs each request line, query string included, at DEBUG: scrub keys there too."""

    def filter(self, record: logging.LogRecord) -> bool:
        message = record.getMessage()
        scrubbed = _KEY_IN_TEXT.sub(r"\1***", message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        return True


def _install_urllib3_filter() -> None:
    logger = logging.getLogger("urllib3.connectionpool")
    if not any(isinstance(f, _RedactQueryKeys) for f in logger.filters):
        logger.addFilter(_RedactQueryKeys())


_install_urllib3_filter()


# ---- retry timing -----------------------------------------------------------------------------


def retry_after_seconds(value: str | None, now: datetime | None = None) -> float | None:
    """Seconds to wait from a `Retry-After` header (delta-seconds or an HTTP-date), or None."""
    if not value:
        return None
    value = value.strip()
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - (now or datetime.now(UTC))).total_seconds())


def backoff_seconds(attempt: int, backoff_s: float, max_backoff_s: float) -> float:
    """Exponential backoff with "equal jitter": between half and all of backoff_s * 2**(n-1),
    so concurrent clients spread out but never retry immediately."""
    ceiling = min(max_backoff_s, backoff_s * 2 ** (attempt - 1))
    return ceiling / 2 + random.uniform(0, ceiling / 2)


# ---- the request --------------------------------------------------------------------------------


def _server_message(response: requests.Response) -> str:
    """The error the server sent, in each source's own shape, else the start of the body."""
    try:
        body = response.json()
    except ValueError:
        body = None
    if isinstance(body, dict):
        error = body.get("error")
        if isinstance(error, dict) and (error.get("code") or error.get("message")):  # EIA
            return ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
        if body.get("error_message"):  # FRED
            return str(body["error_message"])
        chart = body.get("chart")
        if isinstance(chart, dict) and isinstance(chart.get("error"), dict):  # Yahoo
            err = chart["error"]
            return ": ".join(str(err[k]) for k in ("code", "description") if err.get(k))
        if isinstance(error, str):
            return error
    text = " ".join((response.text or "").split())
    return (text[:200] + "...") if len(text) > 200 else (text or response.reason or "")


def get_json(
    session: requests.Session,
    source: str,
    url: str,
    params: Params | None,
    *,
    secret_params: Sequence[str] = SECRET_PARAMS,
    timeout_s: float,
    max_retries: int,
    backoff_s: float,
    max_backoff_s: float = 60.0,
    headers: Mapping[str, str] | None = None,
) -> Any:
    """GET `url` with `params` and return the decoded JSON body; raise SourceError on failure.

    `source` names the system in messages ("EIA"). At most 1 + max_retries attempts.
    """
    secrets = [str(v) for k, v in _items(params) if k in secret_params and v]
    shown = display_url(url, params, secret_params)
    attempts = max_retries + 1
    for attempt in range(1, attempts + 1):
        failure: SourceError | None = None
        wait: float | None = None
        final = False
        try:
            response = session.get(url, params=params, timeout=timeout_s, headers=headers)
        except requests.Timeout:
            failure = SourceError(source, shown, None, f"timed out after {timeout_s:g} s")
        except (
            requests.exceptions.InvalidURL,
            requests.exceptions.MissingSchema,
            requests.exceptions.InvalidSchema,
        ) as exc:
            failure, final = (
                SourceError(source, shown, None, redact(f"invalid URL: {exc}", secrets)),
                True,
            )
        except requests.RequestException as exc:
            # The exception's text embeds the full URL: keep only its kind.
            failure = SourceError(source, shown, None, f"connection failed ({type(exc).__name__})")
        else:
            status = response.status_code
            if 200 <= status < 300:
                try:
                    return response.json()
                except ValueError as exc:
                    detail = redact(f"malformed JSON ({exc})", secrets)
                    failure, final = SourceError(source, shown, status, detail), True
            else:
                failure = SourceError(
                    source, shown, status, redact(_server_message(response), secrets)
                )
                if status == 429 or status >= 500:
                    wait = retry_after_seconds(response.headers.get("Retry-After"))
                else:
                    final = True
        # Raised outside the `except` blocks so no exception holding the real URL is chained.
        if final:
            raise failure
        if attempt == attempts:
            raise SourceError(source, shown, failure.status, failure.message, attempts=attempts)
        delay = (
            min(wait, max_backoff_s)
            if wait is not None
            else backoff_seconds(attempt, backoff_s, max_backoff_s)
        )
        log.warning("%s; retry %d/%d in %.2f s", failure, attempt, max_retries, delay)
        time.sleep(delay)
    raise AssertionError("unreachable")
