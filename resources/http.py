"""GET a JSON document with request-level retries, and keep secrets out of every message.

Retried: HTTP 429 (honouring `Retry-After`, seconds or HTTP-date, capped), 5xx, timeouts
and connection errors, with exponential backoff and jitter. Not retried: any other 4xx
(a bad key or a bad request will not fix itself), a 2xx whose JSON body is an API error
(EIA, FRED and Yahoo all answer some errors with 200), malformed JSON and redirects of a
request that carries a secret.

Secrets: a `Scrubber` holds every secret a client is configured with (the raw values) and
replaces each, raw or URL-, JSON- or HTML-encoded, and any `api_key=`/`token=` query value,
with `***`. `get_json` builds one per request from its `secret_params` and `secrets` and runs
every text it raises or logs through it: URLs, server messages (bodies, reason phrases,
redirect targets), exception texts from requests and urllib3. While a request is in flight
the scrubber is also active for the `ScrubbingFilter` installed on urllib3's and requests'
loggers, so their DEBUG request lines are clean too. No exception that held the real URL is
chained to the one raised. Other clients (notifiers, market-data clients) use the same
pieces: `Scrubber(secrets)`, `with scrubber.active():` around their calls, and
`install_log_scrubbing("their.logger")`.

Secrets shorter than `MIN_SECRET_LEN` (4) characters are not scrubbed: replacing every
"ab" in a message would mangle it and such a value protects nothing anyway.
"""

import contextvars
import email.utils
import html
import json
import logging
import random
import re
import time
from collections.abc import Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any
from urllib.parse import quote, quote_plus, urlencode, urlsplit, urlunsplit

import requests

log = logging.getLogger(__name__)

SECRET_PARAMS = ("api_key",)
MIN_SECRET_LEN = 4
MESSAGE_CHARS = 300  # a server's message is cut to this length (after scrubbing)
Params = Mapping[str, Any] | Sequence[tuple[str, Any]]


class MissingAPIKeyError(RuntimeError):
    """Live mode without a key."""


class SourceConfigError(RuntimeError):
    """Settings that contradict each other. Not a ValueError on purpose: pydantic would wrap
    it in a ValidationError that repeats every input, the key included."""


class SourceError(RuntimeError):
    """A source request that failed for good; the message is safe to log (no key).

    `transient`: whether the same request may succeed later (the source was down, slow or
    overloaded: no answer, 408, 429, 5xx), as opposed to a refusal that will repeat (a bad
    key, a bad request, an error in a 200 answer, an untrusted certificate). A step whose
    source failed transiently is retried (headwater/policies.py); otherwise it fails at once."""

    def __init__(
        self,
        source: str,
        url: str,
        status: int | None,
        message: str,
        *,
        attempts: int = 1,
        transient: bool | None = None,
    ):
        self.source = source
        self.url = url  # redacted
        self.status = status
        self.message = message
        self.attempts = attempts
        if transient is None:
            transient = status is None or status in (408, 429) or status >= 500
        self.transient = transient
        outcome = f"HTTP {status}" if status is not None else "no response"
        tail = f" (gave up after {attempts} attempts)" if attempts > 1 else ""
        super().__init__(f"{source}: GET {url} -> {outcome}: {message}{tail}")


# ---- scrubbing --------------------------------------------------------------------------------

# A key's value after a query parameter that names one, whoever's key it is.
_KEY_IN_TEXT = re.compile(
    r"((?:api_key|apikey|api-key|access_token|token)(?:=|%3D))[^&\s'\"<>]+", re.IGNORECASE
)


def _variants(secret: str) -> set[str]:
    """The forms a secret takes in URLs, query strings, JSON and HTML."""
    forms = {
        secret,
        quote(secret, safe=""),
        quote(secret),  # "/" left as is, as in a path
        quote_plus(secret),
        json.dumps(secret)[1:-1],
        json.dumps(secret, ensure_ascii=False)[1:-1],
        secret.replace("/", "\\/"),  # JSON encoders that escape slashes
        html.escape(secret),
    }
    forms |= {re.sub(r"%[0-9A-F]{2}", lambda m: m.group().lower(), f) for f in list(forms)}
    return forms


class Scrubber:
    """Replaces every configured secret (and any `api_key=...` query value) by `***`.

    `scrub = Scrubber([key, token])`, then `scrub(text)` on any text. Secrets shorter than
    MIN_SECRET_LEN characters are ignored. Its repr never shows a secret.
    """

    def __init__(self, secrets: Iterable[Any] = ()):
        self._secrets = frozenset(
            str(s) for s in secrets if s is not None and len(str(s)) >= MIN_SECRET_LEN
        )
        # Longest first, so a form that contains another is replaced whole.
        needles = sorted(set().union(*map(_variants, self._secrets)), key=len, reverse=True)
        self._pattern = re.compile("|".join(map(re.escape, needles))) if needles else None

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __repr__(self) -> str:
        return f"Scrubber(<{len(self._secrets)} secrets>)"

    def __add__(self, other: "Scrubber") -> "Scrubber":
        return Scrubber(self._secrets | other._secrets)

    def __call__(self, text: Any) -> str:
        text = str(text)
        if self._pattern is not None:
            text = self._pattern.sub("***", text)
        return _KEY_IN_TEXT.sub(r"\1***", text)

    def found_in(self, text: str) -> bool:
        """Whether `text` holds one of the secrets (in any of its forms)."""
        return self._pattern is not None and self._pattern.search(text) is not None

    @contextmanager
    def active(self) -> Iterator["Scrubber"]:
        """Scrub these secrets, too, from the records of every logger with a ScrubbingFilter
        (urllib3's, requests', this module's) emitted in this context (thread or task)."""
        token = _ACTIVE.set(active_scrubber() + self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)


_ACTIVE: contextvars.ContextVar[Scrubber | None] = contextvars.ContextVar(
    "headwater_active_scrubber", default=None
)


def active_scrubber() -> Scrubber:
    """The secrets in force in this context (see `Scrubber.active`); none outside one."""
    return _ACTIVE.get() or Scrubber()


class ScrubbingFilter(logging.Filter):
    """Scrubs a record's message and traceback with the active Scrubber (see
    `Scrubber.active`) and the `api_key=` rule. Logger filters do not apply to records
    propagated from child loggers, hence one per logger (`install_log_scrubbing`)."""

    _formatter = logging.Formatter()

    def filter(self, record: logging.LogRecord) -> bool:
        scrub = active_scrubber()
        try:
            message = record.getMessage()
        except Exception:  # a malformed call: logging reports it later, never a filter
            return True
        scrubbed = scrub(message)
        if scrubbed != message:
            record.msg, record.args = scrubbed, None
        if record.exc_info and not record.exc_text:
            record.exc_text = self._formatter.formatException(record.exc_info)
        if record.exc_text:
            record.exc_text = scrub(record.exc_text)
        if record.stack_info:
            record.stack_info = scrub(record.stack_info)
        return True


# Every logger urllib3 and requests log through (urllib3 logs each request line, query
# string included, at DEBUG), and ours.
HTTP_LOGGERS = (
    "urllib3",
    "urllib3.connectionpool",
    "urllib3.connection",
    "urllib3.poolmanager",
    "urllib3.response",
    "urllib3.util.retry",
    "urllib3.http2.connection",
    "urllib3.contrib.pyopenssl",
    "requests",
    __name__,
)


def install_log_scrubbing(*logger_names: str) -> None:
    """Put a ScrubbingFilter on each named logger (once)."""
    for name in logger_names:
        logger = logging.getLogger(name)
        if not any(isinstance(f, ScrubbingFilter) for f in logger.filters):
            logger.addFilter(ScrubbingFilter())


install_log_scrubbing(*HTTP_LOGGERS)


# ---- URLs as shown ----------------------------------------------------------------------------


def _items(params: Params | None) -> list[tuple[str, Any]]:
    if params is None:
        return []
    return list(params.items()) if isinstance(params, Mapping) else list(params)


def _without_password(url: str) -> str:
    """`url` with the password of a `user:password@` part shown as ***."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return url
    if "@" not in parts.netloc:
        return url
    userinfo, _, hostport = parts.netloc.rpartition("@")
    user = userinfo.split(":", 1)[0]
    netloc = f"{user}:***@{hostport}" if ":" in userinfo else f"{user}@{hostport}"
    return urlunsplit(parts._replace(netloc=netloc))


def display_url(
    url: str,
    params: Params | None,
    secret_params: Sequence[str] = SECRET_PARAMS,
    scrub: Scrubber | None = None,
) -> str:
    """The request URL as people read it (brackets unescaped), secrets shown as ***."""
    shown = [(k, "***" if k in secret_params else v) for k, v in _items(params) if v is not None]
    full = f"{url}?{urlencode(shown, safe='[]*:,/')}" if shown else url
    return (scrub or Scrubber())(_without_password(full))


def host_of(url: str) -> str:
    """`scheme://host[:port]` of a URL: no user, password, path or query. Never raises (a
    port that is not a number is left out rather than quoted in an error)."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "(a URL that does not parse)"
    host = parts.hostname or ""
    if ":" in host:  # IPv6
        host = f"[{host}]"
    try:
        port = f":{parts.port}" if parts.port else ""
    except ValueError:
        port = ""
    return f"{parts.scheme}://{host}{port}"


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


# ---- the server's own words -------------------------------------------------------------------


def _short(text: str, scrub: Scrubber, *, one_line: bool = True) -> str:
    # Scrub before cutting: a cut could otherwise leave the start of a key behind.
    text = scrub(text)
    text = " ".join(text.split()) if one_line else text.strip()
    return (text[:MESSAGE_CHARS] + "...") if len(text) > MESSAGE_CHARS else text


def api_error(body: Any) -> str | None:
    """The error a decoded JSON body reports, in each source's own shape, else None.

    EIA: {"error": {"code", "message"}} or {"error": "text"}; FRED: {"error_code",
    "error_message"}; Yahoo: {"chart": {"error": {"code", "description"}}} (or "finance").
    """
    if not isinstance(body, dict):
        return None
    error = body.get("error")
    if isinstance(error, dict) and (error.get("code") or error.get("message")):
        return ": ".join(str(error[k]) for k in ("code", "message") if error.get(k))
    if isinstance(error, str) and error.strip():
        return error
    if body.get("error_message"):
        return str(body["error_message"])
    for envelope in ("chart", "finance"):
        inner = body.get(envelope)
        err = inner.get("error") if isinstance(inner, dict) else None
        if isinstance(err, dict) and err:
            parts = [str(err[k]) for k in ("code", "description") if err.get(k)]
            return ": ".join(parts) or json.dumps(err)
    return None


def _server_message(response: requests.Response, scrub: Scrubber) -> str:
    """The error the server sent (its JSON error, else the start of the body, else the
    reason phrase), scrubbed."""
    try:
        error = api_error(response.json())
    except ValueError:
        error = None
    if error:  # the API's own words, as sent
        return _short(error, scrub, one_line=False)
    return _short(response.text or response.reason or "", scrub)


def _exception_text(exc: BaseException, scrub: Scrubber) -> str:
    """A requests/urllib3 exception as one scrubbed line, without the request URL it repeats."""
    text = re.sub(r"with url: \S+", "", str(exc))
    return _short(f"{type(exc).__name__}: {text}", scrub)


# ---- the request ------------------------------------------------------------------------------


def get_json(session: requests.Session, source: str, url: str, params: Params | None, **kw) -> Any:
    """GET `url` with `params` and return the decoded JSON body; raise SourceError on failure
    (an API error sent with status 200 is a failure). Keywords as for `request`."""
    return request(session, source, url, params, body="json", **kw)


def get_bytes(
    session: requests.Session, source: str, url: str, params: Params | None, **kw
) -> bytes:
    """GET `url` and return the body's bytes (a file download); keywords as for `request`."""
    return request(session, source, url, params, body="bytes", **kw)


def request(
    session: requests.Session,
    source: str,
    url: str,
    params: Params | None,
    *,
    secret_params: Sequence[str] = SECRET_PARAMS,
    secrets: Iterable[str | None] = (),
    timeout_s: float,
    max_retries: int,
    backoff_s: float,
    max_backoff_s: float = 60.0,
    headers: Mapping[str, str] | None = None,
    body: str = "json",
) -> Any:
    """GET `url` with `params` and return the body (`body`: "json" decoded, "bytes" as is);
    raise SourceError on failure.

    `source` names the system in messages ("EIA"). At most 1 + max_retries attempts. The
    values of `secret_params` and every value in `secrets` (e.g. a token sent in `headers`)
    are scrubbed from all that is raised or logged. A request that carries a secret does
    not follow redirects (requests would resend query parameters to any host): a 3xx fails
    at once, naming the target, scrubbed.
    """
    scrub = Scrubber([*(v for k, v in _items(params) if k in secret_params), *secrets])
    shown = display_url(url, params, secret_params, scrub)
    follow_redirects = not scrub
    attempts = max_retries + 1

    def fail(status: int | None, message: str) -> SourceError:
        return SourceError(source, shown, status, scrub(message))

    with scrub.active():
        for attempt in range(1, attempts + 1):
            failure: SourceError | None = None
            wait: float | None = None
            final = False
            try:
                response = session.get(
                    url,
                    params=params,
                    timeout=timeout_s,
                    headers=headers,
                    allow_redirects=follow_redirects,
                )
            except requests.Timeout:
                failure = fail(None, f"timed out after {timeout_s:g} s")
            except (
                requests.exceptions.InvalidURL,
                requests.exceptions.MissingSchema,
                requests.exceptions.InvalidSchema,
                requests.exceptions.TooManyRedirects,
            ) as exc:
                failure, final = fail(None, f"invalid request: {_exception_text(exc, scrub)}"), True
            except requests.RequestException as exc:
                failure = fail(None, f"connection failed ({_exception_text(exc, scrub)})")
            except Exception as exc:  # anything else urllib3 or http.client may raise
                failure, final = fail(None, f"request failed ({_exception_text(exc, scrub)})"), True
            else:
                answer, failure, final, wait = _judge(response, fail, scrub, follow_redirects, body)
                if failure is None:
                    return answer
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


def _judge(response: requests.Response, fail, scrub: Scrubber, followed_redirects: bool, body: str):
    """(decoded body, failure or None, final, seconds to wait) for one answer."""
    status = response.status_code
    if 200 <= status < 300 and body == "bytes":
        return response.content, None, False, None
    if 200 <= status < 300:
        try:
            body = response.json()
        except ValueError as exc:
            return None, fail(status, _short(f"malformed JSON ({exc})", scrub)), True, None
        error = api_error(body)
        if error is not None:  # an API error sent with 200: the server's message, not a retry
            return (
                None,
                fail(status, f"API error: {_short(error, scrub, one_line=False)}"),
                True,
                None,
            )
        return body, None, False, None
    if 300 <= status < 400:
        target = _short(_without_password(response.headers.get("Location") or "nowhere"), scrub)
        why = "" if followed_redirects else "; not followed: the request carries a secret"
        return None, fail(status, f"redirected to {target}{why}"), True, None
    failure = fail(status, _server_message(response, scrub))
    if status == 429 or status >= 500:
        return None, failure, False, retry_after_seconds(response.headers.get("Retry-After"))
    return None, failure, True, None
