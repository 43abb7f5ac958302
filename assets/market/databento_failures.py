"""How a failed Databento `get_range` call is judged: `classify` says whether it is worth
another attempt (HTTP 408, 429 and 5xx, timeouts, failed connections, a body cut short) or
final (other 4xx, an untrusted certificate, a body that is not DBN, a file that cannot be
written, arguments the client refuses), and reports it as one scrubbed line with what came
back (`_Failure`). `assets.market.sources` decides from it whether to retry and what
`DatabentoError` to raise."""

from __future__ import annotations

import http
import http.client
import ssl
from collections.abc import Iterator
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

import requests
import urllib3
from databento_dbn import DBNError

from assets.market.databento_import import import_databento
from resources.http import MESSAGE_CHARS, Scrubber, retry_after_seconds

if TYPE_CHECKING:
    import databento

TRANSIENT_CLIENT_STATUSES = frozenset({408, 429})  # other 4xx will not fix themselves


@dataclass(frozen=True)
class _Failure:
    status: int | None
    message: str  # scrubbed, one line
    transient: bool
    wait_s: float | None = None  # from Retry-After
    outcome: str | None = None  # what came back, when not "HTTP <status>" or "no response"


CUT_SHORT = "answer cut short"
BAD_ANSWER = "unexpected answer"
NOT_SAVED = "not saved"
NOT_SENT = "not sent"
REFUSED = "refused by the client: "


def _one_line(text: Any, scrub: Scrubber) -> str:
    # Scrub before cutting: a cut could otherwise leave the start of a key behind.
    text = " ".join(scrub(text).split())
    return (text[:MESSAGE_CHARS] + "...") if len(text) > MESSAGE_CHARS else text


def _exception_chain(exc: BaseException) -> Iterator[BaseException]:
    """`exc`, the exceptions it wraps (args, urllib3's `.reason`) and those it was raised
    from or while handling, depth first, each once."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop()
        if id(current) in seen:
            continue
        seen.add(id(current))
        yield current
        linked = [current.__cause__, current.__context__, getattr(current, "reason", None)]
        linked += list(current.args)
        todo += [e for e in linked if isinstance(e, BaseException)]


_TRANSPORT_ERRORS = (
    requests.RequestException,
    urllib3.exceptions.HTTPError,
    http.client.HTTPException,
    ConnectionError,  # the builtin: resets, aborts, broken pipes
    TimeoutError,
)


def _is_certificate_error(exc: BaseException) -> bool:
    return any(isinstance(e, ssl.SSLCertVerificationError) for e in _exception_chain(exc))


def _server_detail(exc: databento.BentoHttpError, scrub: Scrubber) -> str:
    """The server's `detail` (a string, or an object's case, message and docs), else the
    client's message, else the start of the body, else the status's reason phrase."""
    detail = exc.json_body.get("detail") if isinstance(exc.json_body, dict) else None
    if isinstance(detail, dict):
        parts = [str(detail[k]) for k in ("case", "message") if detail.get(k)]
        text = ": ".join(parts) or str(detail)
        if detail.get("docs"):
            text += f" (docs: {detail['docs']})"
    elif detail:
        text = str(detail)
    elif exc.message:
        text = str(exc.message)
    elif exc.http_body:
        text = str(exc.http_body)
    else:
        try:
            text = http.HTTPStatus(exc.http_status).phrase
        except ValueError:
            text = "(no message)"
    return _one_line(text, scrub)


def _describe(exc: BaseException, scrub: Scrubber) -> str:
    return _one_line(f"{type(exc).__name__}: {exc}", scrub)


def classify(exc: BaseException, scrub: Scrubber, timeout_s: float) -> _Failure:
    """Whether a failure of `get_range` is worth another attempt, and how to report it."""
    import_databento()  # first: keeps the warning filters (assets/market/databento_import.py)
    import databento

    if isinstance(exc, databento.BentoHttpError):
        status = exc.http_status
        transient = status >= 500 or status in TRANSIENT_CLIENT_STATUSES
        wait = retry_after_seconds(exc.headers.get("Retry-After")) if transient else None
        return _Failure(status, _server_detail(exc, scrub), transient, wait)
    if isinstance(exc, databento.BentoError):
        # Raised `from None` by the client while streaming the body: what it was handling
        # is still its __context__.
        cause = exc.__context__
        if cause is not None and isinstance(cause, _TRANSPORT_ERRORS):
            why = _describe(cause, scrub)
            message = f"the connection failed while receiving the data ({why})"
            return _Failure(None, message, True, outcome=CUT_SHORT)
        if cause is not None:  # e.g. OSError: the disk is full
            message = f"could not write the data: {_describe(cause, scrub)}"
            return _Failure(None, message, False, outcome=NOT_SAVED)
        return _Failure(None, _one_line(exc, scrub), False, outcome=BAD_ANSWER)
    if isinstance(exc, DBNError):  # a body that does not decode as DBN
        return _Failure(None, _describe(exc, scrub), False, outcome=BAD_ANSWER)
    if isinstance(exc, requests.exceptions.SSLError) and _is_certificate_error(exc):
        return _Failure(None, f"TLS certificate not trusted ({_describe(exc, scrub)})", False)
    if isinstance(exc, requests.Timeout):
        return _Failure(None, f"timed out after {timeout_s:g} s", True)
    if isinstance(exc, (requests.ConnectionError, requests.exceptions.ChunkedEncodingError)):
        return _Failure(None, f"connection failed ({_describe(exc, scrub)})", True)
    if isinstance(exc, (urllib3.exceptions.HTTPError, http.client.HTTPException)):
        return _Failure(None, f"connection failed ({_describe(exc, scrub)})", True)
    if isinstance(exc, requests.RequestException):  # invalid URL, header, schema
        return _Failure(None, f"invalid request: {_describe(exc, scrub)}", False)
    if isinstance(exc, (ValueError, TypeError)):
        message = f"{REFUSED}{_describe(exc, scrub)}"
        return _Failure(None, message, False, outcome=NOT_SENT)
    if isinstance(exc, OSError):
        message = f"could not write the data: {_describe(exc, scrub)}"
        return _Failure(None, message, False, outcome=NOT_SAVED)
    return _Failure(None, f"request failed: {_describe(exc, scrub)}", False)
