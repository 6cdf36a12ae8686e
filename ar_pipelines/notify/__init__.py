"""Notifications: telling people that something failed for a practice, on Slack, on a generic
webhook or by email.

::

    from ar_pipelines.notify import Message, Notifier, run_url

    notifier = Notifier.from_environment()          # the channels whose variables are set
    deliveries = notifier.send(
        Message(
            practice_id="PR-1",
            title="reconciliation NOT clean",
            counts={"matched": 120, "amount_mismatch": 3},
            details=["S-1001: AR 110.00, local 120.00", ...],
            run_url=run_url(os.environ.get("AR_DAGSTER_UI_URL"), run_id),
            report_path="reports/reconciliation_PR-1.html",
        )
    )
    [d for d in deliveries if not d.delivered]       # channel, attempts, error

A ``Message`` is one line of title (what failed), named counts, the first details (the
renderings show at most 10), a link to the run in the Dagster UI (``run_url`` builds
``{AR_DAGSTER_UI_URL}/runs/{run_id}``, or None without that variable) and the path of a
report. It renders as plain text (``text()``), as a Slack incoming-webhook payload
(``slack_payload()``: ``text`` and mrkdwn ``blocks``) and as a generic JSON payload
(``webhook_payload()``: ``practice_id``, ``title``, ``counts``, ``details``, ``run_url``,
``report_path`` and ``text``).

The channels, and the environment variables ``Notifier.from_environment`` builds them from
(a channel is there when its variables are set, none by default):

- ``SlackWebhook``: ``AR_ALERT_SLACK_WEBHOOK_URL``, a Slack incoming-webhook URL; the Slack
  payload is POSTed to it as JSON.
- ``JsonWebhook``: ``AR_ALERT_WEBHOOK_URL``; the generic payload is POSTed to it as JSON.
- ``Email``: ``AR_ALERT_SMTP_URL`` (``smtp://user:password@host:port``, with
  ``?starttls=true`` to upgrade the connection, or ``smtps://...`` for TLS from the start;
  the user and password are optional), ``AR_ALERT_EMAIL_FROM`` and ``AR_ALERT_EMAIL_TO``
  (addresses separated by commas), all three or none: a partial configuration raises
  ``NotifyConfigError`` naming the missing variables. The subject is
  ``[ar-pipelines] {practice_id}: {title}``, the body the plain text.

An HTTP answer outside 2xx is a failure, and every connection has a 10-second timeout.
``Notifier.send`` tries each channel up to three times, waiting 1 s and then 2 s between
attempts (``retry_delays``; the wait goes through an injectable ``sleep``), and returns one
``Delivery`` per channel: its label, whether it was delivered, the attempts made and the
last error. A channel that still fails is logged on the ``ar_pipelines.notify`` logger with
its label, the error's type and its message, and the other channels are tried all the same:
``send`` never raises for a channel's failure, so a failed notification cannot fail the run
that sends it.

Secrets never leave: a webhook URL (its path, and any query, is what grants access) and the
SMTP password are replaced by ``***`` (``Redactor``) in the message before it is sent, in
every log line, in ``Delivery.error``, in the messages of ``ChannelError`` and
``NotifyConfigError``, and the ``repr`` of a channel or a notifier shows only the channels'
labels (and the SMTP host).

The package is a library layer: it imports nothing of Dagster nor of the pipelines' wiring.
"""

from ar_pipelines.notify.channels import (
    DEFAULT_TIMEOUT_SECONDS,
    Channel,
    Email,
    JsonWebhook,
    SlackWebhook,
)
from ar_pipelines.notify.errors import ChannelError, NotifyConfigError, NotifyError
from ar_pipelines.notify.message import DAGSTER_UI_URL_ENV, MAX_DETAILS, Message, run_url
from ar_pipelines.notify.notifier import (
    DEFAULT_RETRY_DELAYS,
    EMAIL_FROM_ENV,
    EMAIL_TO_ENV,
    SLACK_WEBHOOK_URL_ENV,
    SMTP_URL_ENV,
    WEBHOOK_URL_ENV,
    Delivery,
    Notifier,
)
from ar_pipelines.notify.redact import REDACTED, Redactor, url_secrets

__all__ = [
    "DAGSTER_UI_URL_ENV",
    "DEFAULT_RETRY_DELAYS",
    "DEFAULT_TIMEOUT_SECONDS",
    "EMAIL_FROM_ENV",
    "EMAIL_TO_ENV",
    "MAX_DETAILS",
    "REDACTED",
    "SLACK_WEBHOOK_URL_ENV",
    "SMTP_URL_ENV",
    "WEBHOOK_URL_ENV",
    "Channel",
    "ChannelError",
    "Delivery",
    "Email",
    "JsonWebhook",
    "Message",
    "Notifier",
    "NotifyConfigError",
    "NotifyError",
    "Redactor",
    "SlackWebhook",
    "run_url",
    "url_secrets",
]
