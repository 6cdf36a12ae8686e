"""The ``Notifications`` resource: where alerts go, and the one way sensors raise one.

Channels are chosen by environment, none by default (see ``ar_pipelines.notify``):

- ``AR_ALERT_SLACK_WEBHOOK_URL``: a Slack incoming webhook;
- ``AR_ALERT_WEBHOOK_URL``: a generic JSON webhook;
- ``AR_ALERT_SMTP_URL``, ``AR_ALERT_EMAIL_FROM``, ``AR_ALERT_EMAIL_TO``: email over SMTP;
- ``AR_DAGSTER_UI_URL``: the Dagster UI's base URL, for the link to the run.

Every value set comes in as a ``dg.EnvVar``: it is read at run time, and the UI and the run
records show the variable's name, never the URL or the password.

``raise_alert`` is what every sensor calls: it appends the alert to ``alerts.jsonl`` under
the reports directory (the audit log, written whether or not a channel is configured or
answers), sends the message on every channel, and logs a channel that failed. It never
raises for a channel, so the sensor that called it goes on and advances its cursor.
"""

from __future__ import annotations

import json
import logging
import os
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime
from typing import Any

import dagster as dg

from ar_pipelines.defs.resources import Settings
from ar_pipelines.notify import (
    DAGSTER_UI_URL_ENV,
    EMAIL_FROM_ENV,
    EMAIL_TO_ENV,
    SLACK_WEBHOOK_URL_ENV,
    SMTP_URL_ENV,
    WEBHOOK_URL_ENV,
    Delivery,
    Message,
    Notifier,
    NotifyConfigError,
    run_url,
)

ALERTS_FILE = "alerts.jsonl"
# Each field of the resource and the variable it is read from.
FIELD_ENVS: dict[str, str] = {
    "slack_webhook_url": SLACK_WEBHOOK_URL_ENV,
    "webhook_url": WEBHOOK_URL_ENV,
    "smtp_url": SMTP_URL_ENV,
    "email_from": EMAIL_FROM_ENV,
    "email_to": EMAIL_TO_ENV,
    "dagster_ui_url": DAGSTER_UI_URL_ENV,
}


class Notifications(dg.ConfigurableResource):  # type: ignore[type-arg]
    """The alert channels and the Dagster UI's address; an empty field is a channel that
    is not there. ``retry_delays``: the waits, in seconds, between attempts on a channel."""

    slack_webhook_url: str = ""
    webhook_url: str = ""
    smtp_url: str = ""
    email_from: str = ""
    email_to: str = ""
    dagster_ui_url: str = ""
    retry_delays: list[float] = [1.0, 2.0]

    def notifier(self) -> Notifier:
        """The channels the fields configure. A partial email configuration fails with
        ``NotifyConfigError``, naming the variables and never their values."""
        environ = {env: str(getattr(self, name)) for name, env in FIELD_ENVS.items()}
        return Notifier.from_environment(environ, retry_delays=self.retry_delays)

    def run_url(self, run_id: str) -> str | None:
        return run_url(self.dagster_ui_url or None, run_id)


def notifications_from_environment(environ: Mapping[str, str] = os.environ) -> Notifications:
    """The resource with an ``EnvVar`` for each variable set, so the values stay secret."""
    values: dict[str, Any] = {
        name: dg.EnvVar(env) for name, env in FIELD_ENVS.items() if environ.get(env, "").strip()
    }
    return Notifications(**values)


def raise_alert(
    log: logging.Logger | dg.DagsterLogManager,
    notifications: Notifications,
    settings: Settings,
    *,
    kind: str,
    message: Message,
    run_id: str | None = None,
    record: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> list[Delivery]:
    """Write the alert to the audit log, then send ``message`` on every channel.

    The audit line holds ``kind``, the practice, the run, ``at`` (ISO 8601, UTC), the
    message's title, counts and details, the report, ``record`` and, per channel, whether
    it was delivered. A channel that failed, or a configuration the notifier refuses, is
    logged on ``log`` (the sensor's); nothing is raised."""
    deliveries: list[Delivery] = []
    try:
        notifier = notifications.notifier()
    except NotifyConfigError as error:
        log.error(f"alerts are not sent: {error}")
        notifier = None
    if notifier is not None:
        deliveries = notifier.send(message)
        for delivery in deliveries:
            if not delivery.delivered:
                log.error(
                    f"practice {message.practice_id}: the alert was not delivered to "
                    f"{delivery.channel} after {delivery.attempts} attempts: {delivery.error}"
                )
    line = {
        "kind": kind,
        "practice_id": message.practice_id,
        "run_id": run_id,
        "at": (at or datetime.now(UTC)).isoformat(),
        "title": message.title,
        "counts": dict(message.counts),
        "details": list(message.details),
        "report": message.report_path or "",
        **(record or {}),
        "deliveries": [_delivery(d) for d in deliveries],
    }
    text = json.dumps(line, default=str)
    if notifier is not None:
        text = notifier.redact(text)
    settings.reports_path.mkdir(parents=True, exist_ok=True)
    with (settings.reports_path / ALERTS_FILE).open("a", encoding="utf-8") as alerts:
        alerts.write(text + "\n")
    return deliveries


def delivered_to(deliveries: Sequence[Delivery]) -> str:
    """A few words on where an alert went, for the sensor's tick."""
    if not deliveries:
        return "no alert channel configured"
    sent = [d.channel for d in deliveries if d.delivered]
    failed = [d.channel for d in deliveries if not d.delivered]
    words = []
    if sent:
        words.append(f"sent to {', '.join(sent)}")
    if failed:
        words.append(f"NOT delivered to {', '.join(failed)}")
    return "; ".join(words)


def _delivery(delivery: Delivery) -> dict[str, Any]:
    return {
        "channel": delivery.channel,
        "delivered": delivery.delivered,
        "attempts": delivery.attempts,
        "error": delivery.error,
    }
