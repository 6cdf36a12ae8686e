"""Sending one message to every configured channel, with retries, never failing the caller."""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import contextmanager
from dataclasses import dataclass

from ar_pipelines.notify.channels import Channel, Email, JsonWebhook, SlackWebhook
from ar_pipelines.notify.errors import ChannelError, NotifyConfigError
from ar_pipelines.notify.message import Message
from ar_pipelines.notify.redact import Redactor

logger = logging.getLogger("ar_pipelines.notify")

SLACK_WEBHOOK_URL_ENV = "AR_ALERT_SLACK_WEBHOOK_URL"
WEBHOOK_URL_ENV = "AR_ALERT_WEBHOOK_URL"
SMTP_URL_ENV = "AR_ALERT_SMTP_URL"
EMAIL_FROM_ENV = "AR_ALERT_EMAIL_FROM"
EMAIL_TO_ENV = "AR_ALERT_EMAIL_TO"
EMAIL_ENVS = (SMTP_URL_ENV, EMAIL_FROM_ENV, EMAIL_TO_ENV)

# The waits before the second and the third attempt: three attempts in all.
DEFAULT_RETRY_DELAYS = (1.0, 2.0)


@dataclass(frozen=True)
class Delivery:
    """How sending one message on one channel went: the channel's label, whether it was
    delivered, the attempts made, and the last failure (``Kind: redacted message``) or
    None once delivered."""

    channel: str
    delivered: bool
    attempts: int
    error: str | None = None


class Notifier:
    """Sends a message to each of ``channels``, at least once where a channel can take it.

    A channel is tried up to ``1 + len(retry_delays)`` times, waiting ``retry_delays[i]``
    seconds (through ``sleep``) before attempt ``i + 2``. A channel that still fails is
    logged on the ``ar_pipelines.notify`` logger with its label, the failure's type and its
    message, and the other channels are tried all the same: ``send`` never raises for a
    channel. Every text a channel's secrets could reach, the message itself before it is
    sent, the log lines and ``Delivery.error``, goes through the redactor of all the
    channels' secrets.
    """

    __slots__ = ("_channels", "_redactor", "_retry_delays", "_sleep")

    def __init__(
        self,
        channels: Iterable[Channel],
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        sleep: Callable[[float], object] = time.sleep,
    ) -> None:
        self._channels = tuple(channels)
        self._retry_delays = tuple(retry_delays)
        self._sleep = sleep
        self._redactor = Redactor()
        for channel in self._channels:
            self._redactor |= channel.redactor

    @classmethod
    def from_environment(
        cls,
        environ: Mapping[str, str] = os.environ,
        *,
        retry_delays: Sequence[float] = DEFAULT_RETRY_DELAYS,
        sleep: Callable[[float], object] = time.sleep,
    ) -> Notifier:
        """The channels whose variables are set (a blank value counts as unset); none when
        no variable is.

        ``AR_ALERT_SLACK_WEBHOOK_URL``: a Slack incoming webhook. ``AR_ALERT_WEBHOOK_URL``:
        the generic JSON webhook. ``AR_ALERT_SMTP_URL``, ``AR_ALERT_EMAIL_FROM`` and
        ``AR_ALERT_EMAIL_TO`` (addresses separated by commas): email, all three or none.
        ``NotifyConfigError`` for a partial email configuration or a malformed value; its
        message names the variable, never the value.
        """

        def value(name: str) -> str | None:
            text = environ.get(name, "").strip()
            return text or None

        channels: list[Channel] = []
        slack_url = value(SLACK_WEBHOOK_URL_ENV)
        if slack_url is not None:
            with _naming(SLACK_WEBHOOK_URL_ENV):
                channels.append(SlackWebhook(slack_url))
        webhook_url = value(WEBHOOK_URL_ENV)
        if webhook_url is not None:
            with _naming(WEBHOOK_URL_ENV):
                channels.append(JsonWebhook(webhook_url))
        present = [name for name in EMAIL_ENVS if value(name) is not None]
        missing = [name for name in EMAIL_ENVS if value(name) is None]
        if present and missing:
            raise NotifyConfigError(
                f"email alerts need {' and '.join(missing)} as well as {' and '.join(present)}"
            )
        smtp_url, sender, to = (value(name) for name in EMAIL_ENVS)
        if smtp_url is not None and sender is not None and to is not None:
            recipients = [address.strip() for address in to.split(",") if address.strip()]
            if not recipients:
                raise NotifyConfigError(f"{EMAIL_TO_ENV} holds no address")
            with _naming(f"{SMTP_URL_ENV}, {EMAIL_FROM_ENV} or {EMAIL_TO_ENV}"):
                channels.append(Email(smtp_url, sender, recipients))
        return cls(channels, retry_delays=retry_delays, sleep=sleep)

    @property
    def channels(self) -> tuple[Channel, ...]:
        return self._channels

    def redact(self, text: str) -> str:
        """``text`` with every channel's secrets replaced by ``***``."""
        return self._redactor(text)

    def send(self, message: Message) -> list[Delivery]:
        """Send ``message`` to every channel; one ``Delivery`` per channel, in order."""
        message = message.redacted(self._redactor)
        return [self._deliver(channel, message) for channel in self._channels]

    def _deliver(self, channel: Channel, message: Message) -> Delivery:
        label = self._redactor(channel.name)
        attempts = 1 + len(self._retry_delays)
        error = ""
        for attempt in range(1, attempts + 1):
            try:
                channel.send(message)
            except Exception as failure:
                kind = failure.kind if isinstance(failure, ChannelError) else type(failure).__name__
                error = self._redactor(f"{kind}: {str(failure) or '(no message)'}")
            else:
                logger.info("notification sent to %s (attempt %d)", label, attempt)
                return Delivery(channel=label, delivered=True, attempts=attempt)
            if attempt < attempts:
                delay = self._retry_delays[attempt - 1]
                logger.warning(
                    "notification to %s failed on attempt %d of %d, retrying in %.1f s: %s",
                    label,
                    attempt,
                    attempts,
                    delay,
                    error,
                )
                self._sleep(delay)
        logger.error("notification to %s failed after %d attempts: %s", label, attempts, error)
        return Delivery(channel=label, delivered=False, attempts=attempts, error=error)

    def __repr__(self) -> str:
        return self._redactor(f"Notifier(channels={list(self._channels)!r})")


@contextmanager
def _naming(variables: str) -> Iterator[None]:
    """A configuration error raised inside, prefixed with the variables it comes from."""
    try:
        yield
    except NotifyConfigError as error:
        raise NotifyConfigError(f"{variables}: {error}") from None
