"""The errors of notifications. Their messages never hold a secret."""

from __future__ import annotations


class NotifyError(Exception):
    """The base of every notification error."""


class NotifyConfigError(NotifyError, ValueError):
    """A channel's configuration is incomplete or malformed. The message names the setting
    (an environment variable, or a part of a URL), never its value."""


class ChannelError(NotifyError):
    """A channel failed to deliver a message.

    ``kind`` is the type of the underlying failure (``HTTPStatusError`` for a non-2xx
    answer, otherwise the name of the exception raised by the transport, such as
    ``ConnectError`` or ``SMTPAuthenticationError``); the message has the channel's secrets
    replaced by ``***``.
    """

    def __init__(self, kind: str, message: str) -> None:
        super().__init__(message)
        self.kind = kind
