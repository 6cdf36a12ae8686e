"""Real local receivers of notifications, on loopback ports: an HTTP server that records
each POST (for Slack's webhook and the generic one) and an SMTP server (aiosmtpd)."""

from __future__ import annotations

import email
import email.policy
import json
import socket
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email.message import EmailMessage
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

# In every secret of these tests, so that one assertion finds any of them wherever it leaks.
TOKEN = "Zq8vS3cr3tT0k3n"
SMTP_USER = "alerts"
SMTP_PASSWORD = f"pw-{TOKEN}"


@dataclass
class Request:
    path: str
    headers: dict[str, str]
    body: Any


@dataclass
class HttpReceiver:
    """Records each POST; answers the statuses of ``failures`` first, then 200. A failure's
    body repeats the request's path, as some servers do."""

    port: int = 0
    requests: list[Request] = field(default_factory=list)
    failures: dict[str, list[int]] = field(default_factory=dict)
    lock: threading.Lock = field(default_factory=threading.Lock)

    def url(self, path: str) -> str:
        return f"http://127.0.0.1:{self.port}{path}"

    def fail(self, path: str, *statuses: int) -> None:
        self.failures[path] = list(statuses)

    def on(self, path: str) -> list[Request]:
        return [request for request in self.requests if request.path == path]

    def answer(self, request: Request) -> int:
        with self.lock:
            self.requests.append(request)
            pending = self.failures.get(request.path, [])
            return pending.pop(0) if pending else 200


@contextmanager
def http_receiver() -> Iterator[HttpReceiver]:
    state = HttpReceiver()

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            raw = self.rfile.read(int(self.headers["Content-Length"]))
            status = state.answer(Request(self.path, dict(self.headers), json.loads(raw)))
            body = b"ok" if status == 200 else f"no route for {self.path}".encode()
            self.send_response(status)
            self.send_header("Content-Type", "text/plain")
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

        def log_message(self, format: str, *args: Any) -> None:
            pass

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05})
    thread.start()
    try:
        yield state
    finally:
        server.shutdown()
        server.server_close()
        thread.join()


class SmtpRecorder:
    """Keeps each message received and each login; takes ``SMTP_USER`` with
    ``SMTP_PASSWORD``, and refuses any other password with an answer that repeats it."""

    def __init__(self) -> None:
        self.messages: list[EmailMessage] = []
        self.envelopes: list[tuple[str, list[str]]] = []
        self.logins: list[str] = []

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:  # noqa: N802
        parsed = email.message_from_bytes(envelope.content, policy=email.policy.default)
        assert isinstance(parsed, EmailMessage)
        self.messages.append(parsed)
        self.envelopes.append((envelope.mail_from, list(envelope.rcpt_tos)))
        return "250 Message accepted"

    def authenticate(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        if login == SMTP_USER and password == SMTP_PASSWORD:
            self.logins.append(login)
            return AuthResult(success=True)
        return AuthResult(
            success=False, handled=False, message=f"535 5.7.8 password {password} refused"
        )


@dataclass
class SmtpServer:
    port: int
    recorder: SmtpRecorder

    def url(self, password: str | None = None) -> str:
        credentials = f"{SMTP_USER}:{password}@" if password else ""
        return f"smtp://{credentials}127.0.0.1:{self.port}"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


@contextmanager
def smtp_receiver() -> Iterator[SmtpServer]:
    recorder = SmtpRecorder()
    controller = Controller(
        recorder,
        hostname="127.0.0.1",
        port=free_port(),
        server_hostname="localhost",
        authenticator=recorder.authenticate,
        auth_require_tls=False,
    )
    controller.start()
    try:
        yield SmtpServer(controller.port, recorder)
    finally:
        controller.stop()
