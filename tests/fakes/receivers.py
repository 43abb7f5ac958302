"""Real servers on loopback for the notifiers' tests: an HTTP receiver that stands in for a
Slack incoming webhook, and an SMTP server (aiosmtpd) with optional STARTTLS and login.

    with HTTPReceiver() as hooks:
        hooks.script(Answer(500, "server error"), Answer(500))   # the next two requests
        SlackWebhookNotifier(webhook_url=hooks.url("/services/T1/B2/token")).send({...})
        hooks.requests   # what arrived: method, path, headers, decoded JSON body

    with SMTPServer(tls=True, credentials=("user", "pass"), ca_file=tmp / "ca.pem") as smtp:
        ...             # smtp.port; smtp.messages: what arrived (parsed, with the envelope)
        smtp.script("451 4.3.0 try later")   # the next DATA answer(s)

Answers are scripted and consumed one per request, in order; then the normal answer
(HTTP 200 "ok", SMTP 250). An answer's body may say `{path}`: the request's path, echoed
back the way careless servers echo a request (the webhook's secret is its path).
`closed_port()` gives a port where nothing listens (connection refused).
`python -m tests.fakes.receivers` runs both in the foreground and prints what arrives.
"""

import json
import socket
import ssl
import threading
from collections import deque
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import trustme
from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword


def closed_port() -> int:
    """A loopback port nothing listens on (bound, then released)."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


# ---- HTTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Answer:
    status: int = 200
    body: str = "ok"
    headers: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class Request:
    method: str
    path: str
    headers: dict[str, str]
    raw: bytes

    def json(self):
        return json.loads(self.raw)


class HTTPReceiver:
    """Records every request; answers the scripted answers, then 200 "ok"."""

    def __init__(self, port: int = 0):
        self.requests: list[Request] = []
        self._script: deque[Answer] = deque()
        self._lock = threading.Lock()
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def _answer(self):
                length = int(self.headers.get("Content-Length") or 0)
                raw = self.rfile.read(length) if length else b""
                with receiver._lock:
                    receiver.requests.append(
                        Request(self.command, self.path, dict(self.headers.items()), raw)
                    )
                    answer = receiver._script.popleft() if receiver._script else Answer()
                body = answer.body.replace("{path}", self.path).encode()
                self.send_response(answer.status)
                self.send_header("Content-Type", "text/plain")
                self.send_header("Content-Length", str(len(body)))
                for name, value in answer.headers.items():
                    self.send_header(name, value)
                self.end_headers()
                self.wfile.write(body)

            do_POST = do_GET = _answer

            def log_message(self, *args):  # keep the test output clean
                pass

        self._server = ThreadingHTTPServer(("127.0.0.1", port), Handler)
        self._server.daemon_threads = True
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    @property
    def port(self) -> int:
        return self._server.server_address[1]

    def url(self, path: str = "/") -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def script(self, *answers: Answer) -> None:
        with self._lock:
            self._script.extend(answers)

    def reset(self) -> None:
        """Forget what arrived and what was scripted."""
        with self._lock:
            self.requests.clear()
            self._script.clear()

    def __enter__(self) -> "HTTPReceiver":
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        self._server.shutdown()
        self._server.server_close()


# ---- SMTP -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    mail_from: str
    rcpt_tos: list[str]
    message: EmailMessage
    tls: bool  # the session had switched to TLS (STARTTLS) before DATA
    login: str | None  # the user that logged in, if any


class _Handler:
    def __init__(self, server: "SMTPServer"):
        self.server = server

    async def handle_DATA(self, smtp, session, envelope) -> str:
        with self.server._lock:
            if self.server._script:
                return self.server._script.popleft()
            login = session.auth_data.login.decode() if session.auth_data else None
            self.server.messages.append(
                Received(
                    envelope.mail_from,
                    list(envelope.rcpt_tos),
                    message_from_bytes(envelope.content, policy=policy.default),
                    session.ssl is not None,
                    login,
                )
            )
        return "250 OK"


class SMTPServer:
    """aiosmtpd on 127.0.0.1. `tls=True` offers STARTTLS with a certificate for 127.0.0.1
    from a throwaway CA (written to `ca_file`); `credentials=(user, password)` accepts AUTH
    with exactly those (only over TLS, as aiosmtpd requires by default)."""

    def __init__(
        self,
        *,
        tls: bool = False,
        credentials: tuple[str, str] | None = None,
        ca_file: Path | None = None,
        port: int | None = None,
    ):
        self.messages: list[Received] = []
        self.logins: list[str] = []  # every login tried, accepted or not
        self._script: deque[str] = deque()
        self._lock = threading.Lock()
        self.ca_file = ca_file
        kwargs: dict = {}
        if tls:
            ca = trustme.CA()
            context = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
            ca.issue_cert("127.0.0.1", "localhost").configure_cert(context)
            kwargs["tls_context"] = context
            if ca_file is not None:
                ca.cert_pem.write_to_path(str(ca_file))
        if credentials is not None:
            kwargs["authenticator"] = self._authenticator(credentials)
            kwargs["auth_required"] = True
        self.port = port or closed_port()
        self._controller = Controller(
            _Handler(self), hostname="127.0.0.1", port=self.port, **kwargs
        )

    def _authenticator(self, credentials: tuple[str, str]):
        user, password = credentials

        def authenticate(server, session, envelope, mechanism, auth_data) -> AuthResult:
            ok = isinstance(auth_data, LoginPassword) and (
                auth_data.login.decode(),
                auth_data.password.decode(),
            ) == (user, password)
            if isinstance(auth_data, LoginPassword):
                self.logins.append(auth_data.login.decode())
            return AuthResult(success=ok, handled=False, auth_data=auth_data if ok else None)

        return authenticate

    def script(self, *replies: str) -> None:
        """The next DATA commands are answered with these replies, e.g. "451 4.3.0 later"."""
        with self._lock:
            self._script.extend(replies)

    def pending(self) -> int:
        """Scripted replies not used yet."""
        with self._lock:
            return len(self._script)

    def reset(self) -> None:
        """Forget what arrived, the logins and what was scripted."""
        with self._lock:
            self.messages.clear()
            self.logins.clear()
            self._script.clear()

    def __enter__(self) -> "SMTPServer":
        self._controller.start()
        return self

    def __exit__(self, *exc) -> None:
        self._controller.stop()


def main() -> None:
    """`python -m tests.fakes.receivers`: both servers in the foreground, printing what
    arrives, to try notifications locally (docs/operations.md#notifications)."""
    import argparse

    parser = argparse.ArgumentParser(description=main.__doc__)
    parser.add_argument("--http-port", type=int, default=8099)
    parser.add_argument("--smtp-port", type=int, default=8025)
    args = parser.parse_args()

    with HTTPReceiver(args.http_port) as hooks, SMTPServer(port=args.smtp_port) as smtp:
        print(f"export HEADWATER_SLACK_WEBHOOK_URL={hooks.url('/services/T000/B000/local-test')}")
        print(f"SMTP on 127.0.0.1:{smtp.port} (smtp_host: 127.0.0.1, smtp_port: {smtp.port})")
        print("Ctrl-C stops both.", flush=True)
        seen_http = seen_smtp = 0
        try:
            while True:
                for request in hooks.requests[seen_http:]:
                    print(f"--- Slack webhook {request.method} {request.path}")
                    print(json.dumps(request.json(), indent=2), flush=True)
                for mail in smtp.messages[seen_smtp:]:
                    print(f"--- email to {', '.join(mail.rcpt_tos)} (TLS: {mail.tls})")
                    print(mail.message.as_string(), flush=True)
                seen_http, seen_smtp = len(hooks.requests), len(smtp.messages)
                threading.Event().wait(0.5)
        except KeyboardInterrupt:
            pass


if __name__ == "__main__":
    main()
