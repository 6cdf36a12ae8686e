"""The channels a message goes out on: a Slack incoming webhook, a generic JSON webhook and
email over SMTP.

Each channel has a ``name``, a label safe to log, a ``redactor`` that masks its secrets, and
``send(message)``, which delivers the message once, its secrets masked, or raises
``ChannelError`` whose message is already redacted. A channel's ``repr`` shows its label
(and for email the SMTP host), nothing else.
"""

from __future__ import annotations

import smtplib
import ssl
from collections.abc import Sequence
from email.message import EmailMessage
from email.utils import formatdate, make_msgid
from typing import Any, Protocol
from urllib.parse import parse_qs, unquote, urlsplit

import httpx

from ar_pipelines.notify.errors import ChannelError, NotifyConfigError
from ar_pipelines.notify.message import Message
from ar_pipelines.notify.redact import Redactor, url_secrets

DEFAULT_TIMEOUT_SECONDS = 10.0
# The characters of a failed HTTP answer's body kept in the error, to tell what went wrong.
_MAX_BODY_CHARS = 200
_SMTP_DEFAULT_PORTS = {"smtp": 25, "smtps": 465}
_TRUE = frozenset({"true", "1", "yes", "on"})
_FALSE = frozenset({"false", "0", "no", "off", ""})


class Channel(Protocol):
    """What ``Notifier`` sends on."""

    @property
    def name(self) -> str:
        """A label safe to log: ``slack``, ``webhook``, ``email``."""
        ...

    @property
    def redactor(self) -> Redactor:
        """Masks the channel's secrets in any text."""
        ...

    def send(self, message: Message) -> None:
        """Deliver ``message`` once; raise on failure."""
        ...


class _JsonWebhookBase:
    """POSTs a JSON payload to a URL whose path (and query) is the secret; any answer
    outside 2xx is a failure, and so is a redirect."""

    __slots__ = ("_timeout", "_url", "name", "redactor")

    def __init__(self, url: str, *, name: str, timeout: float) -> None:
        self.name = name
        self.redactor = Redactor(url_secrets(url))
        self._url = url.strip()
        self._timeout = timeout
        try:
            split = urlsplit(self._url)
            valid = split.scheme in ("http", "https") and bool(split.hostname)
        except ValueError:
            valid = False
        if not valid:
            raise NotifyConfigError(
                f"the {name} webhook URL is not an http:// or https:// URL with a host"
            )

    def _post(self, payload: dict[str, Any]) -> None:
        try:
            response = httpx.post(self._url, json=payload, timeout=self._timeout)
        except Exception as error:
            raise ChannelError(type(error).__name__, self.redactor(_described(error))) from None
        if not response.is_success:
            body = " ".join(response.text.split())[:_MAX_BODY_CHARS]
            raise ChannelError(
                "HTTPStatusError",
                self.redactor(f"answered HTTP {response.status_code}: {body or '(no body)'}"),
            )

    def __repr__(self) -> str:
        return f"{type(self).__name__}(name={self.name!r})"


class SlackWebhook(_JsonWebhookBase):
    """A Slack incoming webhook (``AR_ALERT_SLACK_WEBHOOK_URL``): the message's
    ``slack_payload()`` as JSON."""

    __slots__ = ()

    def __init__(
        self, url: str, *, name: str = "slack", timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(url, name=name, timeout=timeout)

    def send(self, message: Message) -> None:
        self._post(message.redacted(self.redactor).slack_payload())


class JsonWebhook(_JsonWebhookBase):
    """A generic webhook (``AR_ALERT_WEBHOOK_URL``): the message's ``webhook_payload()`` as
    JSON."""

    __slots__ = ()

    def __init__(
        self, url: str, *, name: str = "webhook", timeout: float = DEFAULT_TIMEOUT_SECONDS
    ) -> None:
        super().__init__(url, name=name, timeout=timeout)

    def send(self, message: Message) -> None:
        self._post(message.redacted(self.redactor).webhook_payload())


class Email:
    """Email over SMTP: subject ``[ar-pipelines] {practice_id}: {title}``, the message's
    plain text as the body, from ``sender`` to every one of ``recipients``.

    ``smtp_url`` is ``smtp://[user:password@]host[:port]`` (port 25 by default), with
    ``?starttls=true`` to upgrade the connection before logging in, or
    ``smtps://[user:password@]host[:port]`` for SMTP over TLS (port 465 by default). A
    password with ``@``, ``:``, ``/``, ``?`` or ``#`` is written percent-encoded. Without a
    user there is no login. Certificates are verified against the system's authorities.
    """

    __slots__ = (
        "_host",
        "_password",
        "_port",
        "_recipients",
        "_sender",
        "_starttls",
        "_timeout",
        "_tls",
        "_username",
        "name",
        "redactor",
    )

    def __init__(
        self,
        smtp_url: str,
        sender: str,
        recipients: Sequence[str],
        *,
        name: str = "email",
        timeout: float = DEFAULT_TIMEOUT_SECONDS,
    ) -> None:
        self.name = name
        self.redactor = Redactor(url_secrets(smtp_url))
        self._timeout = timeout
        try:
            self._parse(smtp_url.strip())
        except NotifyConfigError as error:
            raise NotifyConfigError(self.redactor(str(error))) from None
        self._sender = sender.strip()
        if isinstance(recipients, str):
            raise TypeError("recipients are a sequence of addresses, not one text")
        self._recipients = tuple(address.strip() for address in recipients if address.strip())
        if not self._sender:
            raise NotifyConfigError("an email needs a sender")
        if not self._recipients:
            raise NotifyConfigError("an email needs at least one recipient")
        for address in (self._sender, *self._recipients):
            if "\r" in address or "\n" in address:
                raise NotifyConfigError("an email address is one line")

    def _parse(self, smtp_url: str) -> None:
        try:
            split = urlsplit(smtp_url)
            port = split.port
        except ValueError:
            raise NotifyConfigError(
                "the SMTP URL does not parse, or its port is not a number"
            ) from None
        if split.scheme not in _SMTP_DEFAULT_PORTS:
            raise NotifyConfigError("the SMTP URL does not start with smtp:// or smtps://")
        if not split.hostname:
            raise NotifyConfigError("the SMTP URL has no host")
        self._host = split.hostname
        self._tls = split.scheme == "smtps"
        self._port = port or _SMTP_DEFAULT_PORTS[split.scheme]
        self._username = unquote(split.username or "")
        self._password = unquote(split.password or "")
        query = parse_qs(split.query, keep_blank_values=True)
        if set(query) - {"starttls"}:
            raise NotifyConfigError("the SMTP URL has a parameter other than starttls")
        starttls = query.get("starttls", [""])[-1].strip().lower()
        if starttls not in _TRUE | _FALSE:
            raise NotifyConfigError("the SMTP URL's starttls is neither true nor false")
        self._starttls = starttls in _TRUE
        if self._starttls and self._tls:
            raise NotifyConfigError("starttls goes with smtp://; smtps:// is TLS from the start")

    @property
    def host(self) -> str:
        return self._host

    def send(self, message: Message) -> None:
        message = message.redacted(self.redactor)
        email = EmailMessage()
        email["Subject"] = message.headline
        email["From"] = self._sender
        email["To"] = ", ".join(self._recipients)
        email["Date"] = formatdate(usegmt=True)
        email["Message-ID"] = make_msgid(domain=self._sender.rpartition("@")[2] or self._host)
        email.set_content(message.text())
        try:
            with self._connect() as smtp:
                if self._starttls:
                    smtp.starttls(context=ssl.create_default_context())
                if self._username:
                    smtp.login(self._username, self._password)
                smtp.send_message(email)
        except Exception as error:
            raise ChannelError(type(error).__name__, self.redactor(_described(error))) from None

    def _connect(self) -> smtplib.SMTP:
        if self._tls:
            return smtplib.SMTP_SSL(
                self._host,
                self._port,
                timeout=self._timeout,
                context=ssl.create_default_context(),
            )
        return smtplib.SMTP(self._host, self._port, timeout=self._timeout)

    def __repr__(self) -> str:
        return f"Email(name={self.name!r}, host={self._host!r})"


def _described(error: BaseException) -> str:
    return str(error) or "(no message)"
