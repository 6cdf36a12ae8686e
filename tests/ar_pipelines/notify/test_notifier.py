"""Notifications delivered to real local receivers: an HTTP server for the webhooks and an
SMTP server (aiosmtpd) for email, both on loopback ports."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator

import pytest

from ar_pipelines.notify import (
    ChannelError,
    Delivery,
    Email,
    JsonWebhook,
    Message,
    Notifier,
    NotifyConfigError,
    Redactor,
    SlackWebhook,
    run_url,
    url_secrets,
)
from tests.ar_pipelines.notify.receivers import (
    SMTP_PASSWORD,
    SMTP_USER,
    TOKEN,
    HttpReceiver,
    SmtpServer,
    free_port,
    http_receiver,
    smtp_receiver,
)

SLACK_PATH = f"/services/T0001/B0001/{TOKEN}slack"
WEBHOOK_PATH = f"/hooks/alerts/{TOKEN}generic"
SENDER = "ar-pipelines@example.com"
RECIPIENTS = ("finance@example.com", "ops@example.com")


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as state:
        yield state


@pytest.fixture
def smtp_server() -> Iterator[SmtpServer]:
    with smtp_receiver() as server:
        yield server


class Sleeps(list[float]):
    """A ``sleep`` that records how long it was asked to wait, and does not wait."""

    def __call__(self, seconds: float) -> None:
        self.append(seconds)


@pytest.fixture
def sleeps() -> Sleeps:
    return Sleeps()


def failed_reconciliation(detail_count: int = 12) -> Message:
    return Message(
        practice_id="PR-7",
        title="reconciliation NOT clean",
        counts={"matched": 120, "amount_mismatch": 3, "missing_in_ar": 1},
        details=[f"S-{1000 + n}: AR 110.00, local 120.00" for n in range(detail_count)],
        run_url=run_url("http://dagster.local:3000/", "run-42"),
        report_path="reports/reconciliation_PR-7.html",
    )


def assert_carries_the_message(text: str) -> None:
    """The practice, the title, the counts, the first ten details (not the later ones),
    the run's link and the report's path."""
    for expected in (
        "PR-7",
        "reconciliation NOT clean",
        "matched",
        "120",
        "amount_mismatch",
        "missing_in_ar",
        "S-1000: AR 110.00, local 120.00",
        "S-1009",
        "the first 10 of 12",
        "http://dagster.local:3000/runs/run-42",
        "reports/reconciliation_PR-7.html",
    ):
        assert expected in text, expected
    assert "S-1010" not in text
    assert "S-1011" not in text


def test_the_slack_webhook_receives_the_practice_title_counts_details_run_link_and_report(
    receiver: HttpReceiver, sleeps: Sleeps
) -> None:
    notifier = Notifier([SlackWebhook(receiver.url(SLACK_PATH))], sleep=sleeps)

    deliveries = notifier.send(failed_reconciliation())

    assert deliveries == [Delivery(channel="slack", delivered=True, attempts=1)]
    [request] = receiver.on(SLACK_PATH)
    assert request.headers["Content-Type"] == "application/json"
    payload = request.body
    assert set(payload) == {"text", "blocks"}
    assert_carries_the_message(payload["text"])
    sections = [block["text"] for block in payload["blocks"]]
    assert all(block["type"] == "section" for block in payload["blocks"])
    assert all(section["type"] == "mrkdwn" for section in sections)
    blocks_text = "\n".join(section["text"] for section in sections)
    assert_carries_the_message(blocks_text)
    assert "<http://dagster.local:3000/runs/run-42|Open the run in Dagster>" in blocks_text
    assert sections[0]["text"] == "*[ar-pipelines] PR-7: reconciliation NOT clean*"
    assert sleeps == []


def test_the_generic_webhook_receives_each_field_and_the_plain_text(
    receiver: HttpReceiver, sleeps: Sleeps
) -> None:
    notifier = Notifier([JsonWebhook(receiver.url(WEBHOOK_PATH))], sleep=sleeps)

    deliveries = notifier.send(failed_reconciliation())

    assert deliveries == [Delivery(channel="webhook", delivered=True, attempts=1)]
    [request] = receiver.on(WEBHOOK_PATH)
    payload = request.body
    assert payload == {
        "practice_id": "PR-7",
        "title": "reconciliation NOT clean",
        "counts": {"matched": 120, "amount_mismatch": 3, "missing_in_ar": 1},
        "details": [f"S-{1000 + n}: AR 110.00, local 120.00" for n in range(10)],
        "run_url": "http://dagster.local:3000/runs/run-42",
        "report_path": "reports/reconciliation_PR-7.html",
        "text": failed_reconciliation().text(),
    }
    assert_carries_the_message(payload["text"])


def test_an_email_goes_to_every_recipient_with_the_subject_and_the_whole_message(
    smtp_server: SmtpServer, sleeps: Sleeps
) -> None:
    channel = Email(smtp_server.url(SMTP_PASSWORD), SENDER, RECIPIENTS)
    notifier = Notifier([channel], sleep=sleeps)

    deliveries = notifier.send(failed_reconciliation())

    assert deliveries == [Delivery(channel="email", delivered=True, attempts=1)]
    assert smtp_server.recorder.logins == [SMTP_USER]
    assert smtp_server.recorder.envelopes == [(SENDER, list(RECIPIENTS))]
    [received] = smtp_server.recorder.messages
    assert received["Subject"] == "[ar-pipelines] PR-7: reconciliation NOT clean"
    assert received["From"] == SENDER
    assert received["To"] == ", ".join(RECIPIENTS)
    assert_carries_the_message(received.get_content())


def test_an_email_without_credentials_in_the_url_is_sent_without_logging_in(
    smtp_server: SmtpServer, sleeps: Sleeps
) -> None:
    notifier = Notifier([Email(smtp_server.url(), SENDER, RECIPIENTS[:1])], sleep=sleeps)

    assert notifier.send(failed_reconciliation())[0].delivered
    assert smtp_server.recorder.logins == []
    assert len(smtp_server.recorder.messages) == 1


def test_a_receiver_answering_500_twice_then_200_gets_the_message_on_the_third_attempt(
    receiver: HttpReceiver, sleeps: Sleeps
) -> None:
    receiver.fail(WEBHOOK_PATH, 500, 500)
    notifier = Notifier([JsonWebhook(receiver.url(WEBHOOK_PATH))], sleep=sleeps)

    [delivery] = notifier.send(failed_reconciliation())

    assert delivery == Delivery(channel="webhook", delivered=True, attempts=3)
    assert len(receiver.on(WEBHOOK_PATH)) == 3
    assert sleeps == [1.0, 2.0]


def test_a_receiver_always_failing_gives_a_failed_delivery_that_is_logged_and_others_still_go(
    receiver: HttpReceiver,
    smtp_server: SmtpServer,
    sleeps: Sleeps,
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="ar_pipelines.notify")
    receiver.fail(SLACK_PATH, 500, 500, 500, 500)
    notifier = Notifier(
        [
            SlackWebhook(receiver.url(SLACK_PATH)),
            JsonWebhook(receiver.url(WEBHOOK_PATH)),
            Email(smtp_server.url(), SENDER, RECIPIENTS),
        ],
        sleep=sleeps,
    )

    slack, webhook, mail = notifier.send(failed_reconciliation())

    assert slack.channel == "slack"
    assert not slack.delivered
    assert slack.attempts == 3
    assert slack.error is not None
    assert slack.error.startswith("HTTPStatusError: answered HTTP 500")
    assert len(receiver.on(SLACK_PATH)) == 3
    assert webhook == Delivery(channel="webhook", delivered=True, attempts=1)
    assert mail == Delivery(channel="email", delivered=True, attempts=1)
    assert len(smtp_server.recorder.messages) == 1
    assert sleeps == [1.0, 2.0]
    [failure] = [record for record in caplog.records if record.levelno == logging.ERROR]
    assert failure.name == "ar_pipelines.notify"
    assert "slack" in failure.getMessage()
    assert "HTTPStatusError" in failure.getMessage()
    assert "after 3 attempts" in failure.getMessage()


def test_a_channel_that_cannot_connect_fails_with_the_transport_error_and_does_not_raise(
    sleeps: Sleeps,
) -> None:
    closed = free_port()
    notifier = Notifier(
        [
            JsonWebhook(f"http://127.0.0.1:{closed}{WEBHOOK_PATH}"),
            Email(f"smtp://127.0.0.1:{closed}", SENDER, RECIPIENTS),
        ],
        sleep=sleeps,
    )

    webhook, mail = notifier.send(failed_reconciliation())

    assert not webhook.delivered
    assert webhook.error is not None
    assert webhook.error.startswith("ConnectError: ")
    assert not mail.delivered
    assert mail.error is not None
    assert mail.error.startswith("ConnectionRefusedError: ")
    assert sleeps == [1.0, 2.0, 1.0, 2.0]


def test_webhook_urls_and_their_paths_appear_nowhere_in_payloads_logs_deliveries_or_reprs(
    receiver: HttpReceiver, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ar_pipelines.notify")
    slack_url = receiver.url(SLACK_PATH)
    webhook_url = receiver.url(WEBHOOK_PATH)
    # The Slack receiver always fails, with an answer that repeats the secret path.
    receiver.fail(SLACK_PATH, *[404] * 4)
    notifier = Notifier([SlackWebhook(slack_url), JsonWebhook(webhook_url)], sleep=sleeps)
    leaky = Message(
        practice_id="PR-7",
        title=f"nightly_sync run failed posting to {webhook_url}",
        counts={f"errors at {SLACK_PATH}": 1},
        details=[f"POST {slack_url} failed", f"then {WEBHOOK_PATH.lstrip('/')} too"],
    )

    slack, webhook = notifier.send(leaky)

    assert not slack.delivered
    assert webhook.delivered
    assert slack.error is not None
    assert "no route for ***" in slack.error
    [delivered] = receiver.on(WEBHOOK_PATH)
    assert "***" in delivered.body["title"]
    assert "***" in delivered.body["details"][0]
    # A channel on its own masks its own secrets, in what it sends and in what it raises.
    with pytest.raises(ChannelError) as raised:
        SlackWebhook(slack_url).send(Message("PR-7", "failed", details=[f"POST {slack_url}"]))
    assert len(receiver.on(SLACK_PATH)) == 4
    sent = json.dumps([request.body for request in receiver.requests])
    for seen in (
        sent,
        caplog.text,
        slack.error,
        repr(notifier),
        repr(notifier.channels),
        str(raised.value),
        repr(raised.value),
    ):
        assert TOKEN not in seen
    assert repr(notifier) == (
        "Notifier(channels=[SlackWebhook(name='slack'), JsonWebhook(name='webhook')])"
    )
    assert caplog.records


def test_the_smtp_password_appears_nowhere_in_the_email_logs_deliveries_or_reprs(
    smtp_server: SmtpServer, sleeps: Sleeps, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="ar_pipelines.notify")
    smtp_url = smtp_server.url(SMTP_PASSWORD)
    # A wrong password the server repeats in its refusal.
    wrong_password = f"wrong-{TOKEN}"
    wrong_url = smtp_server.url(wrong_password)
    notifier = Notifier(
        [Email(smtp_url, SENDER, RECIPIENTS), Email(wrong_url, SENDER, RECIPIENTS, name="bad")],
        sleep=sleeps,
    )
    leaky = Message(
        practice_id="PR-7",
        title="source not refreshing",
        details=[f"login with {SMTP_PASSWORD} at {smtp_url}", f"and {wrong_password}"],
    )

    good, bad = notifier.send(leaky)

    assert good.delivered
    assert not bad.delivered
    assert bad.error is not None
    assert bad.error.startswith("SMTPAuthenticationError: ")
    assert "password *** refused" in bad.error
    [received] = smtp_server.recorder.messages
    content = received.as_string()
    assert "login with ***" in content
    with pytest.raises(ChannelError) as raised:
        Email(wrong_url, SENDER, RECIPIENTS).send(leaky)
    for seen in (
        content,
        caplog.text,
        bad.error,
        repr(notifier),
        str(raised.value),
    ):
        assert TOKEN not in seen
    assert repr(notifier.channels[0]) == "Email(name='email', host='127.0.0.1')"


def test_from_environment_without_variables_has_no_channels_and_sends_nothing() -> None:
    notifier = Notifier.from_environment({})

    assert notifier.channels == ()
    assert notifier.send(failed_reconciliation()) == []


def test_from_environment_builds_each_channel_whose_variables_are_set(
    receiver: HttpReceiver, smtp_server: SmtpServer, sleeps: Sleeps
) -> None:
    notifier = Notifier.from_environment(
        {
            "AR_ALERT_SLACK_WEBHOOK_URL": receiver.url(SLACK_PATH),
            "AR_ALERT_WEBHOOK_URL": f" {receiver.url(WEBHOOK_PATH)} ",
            "AR_ALERT_SMTP_URL": smtp_server.url(SMTP_PASSWORD),
            "AR_ALERT_EMAIL_FROM": SENDER,
            "AR_ALERT_EMAIL_TO": " finance@example.com, ,ops@example.com ",
            "AR_DAGSTER_UI_URL": "http://dagster.local:3000",
        },
        sleep=sleeps,
    )

    assert [channel.name for channel in notifier.channels] == ["slack", "webhook", "email"]
    assert all(delivery.delivered for delivery in notifier.send(failed_reconciliation()))
    assert smtp_server.recorder.envelopes == [(SENDER, list(RECIPIENTS))]
    assert len(receiver.requests) == 2
    assert TOKEN not in repr(notifier)


@pytest.mark.parametrize(
    ("present", "missing"),
    [
        (("AR_ALERT_SMTP_URL",), ("AR_ALERT_EMAIL_FROM", "AR_ALERT_EMAIL_TO")),
        (("AR_ALERT_SMTP_URL", "AR_ALERT_EMAIL_FROM"), ("AR_ALERT_EMAIL_TO",)),
        (("AR_ALERT_EMAIL_FROM", "AR_ALERT_EMAIL_TO"), ("AR_ALERT_SMTP_URL",)),
    ],
)
def test_a_partial_email_configuration_is_an_error_naming_the_missing_variable_not_values(
    present: tuple[str, ...], missing: tuple[str, ...]
) -> None:
    values = {
        "AR_ALERT_SMTP_URL": f"smtp://{SMTP_USER}:{SMTP_PASSWORD}@mail.example.com:587",
        "AR_ALERT_EMAIL_FROM": f"{TOKEN}@example.com",
        "AR_ALERT_EMAIL_TO": f"{TOKEN}-to@example.com",
    }
    environ = {name: values[name] for name in present} | {name: " " for name in missing}

    with pytest.raises(NotifyConfigError) as raised:
        Notifier.from_environment(environ)

    message = str(raised.value)
    for name in missing:
        assert name in message
    assert TOKEN not in message


@pytest.mark.parametrize(
    ("environ", "named"),
    [
        ({"AR_ALERT_WEBHOOK_URL": f"ftp://example.com/{TOKEN}"}, "AR_ALERT_WEBHOOK_URL"),
        ({"AR_ALERT_SLACK_WEBHOOK_URL": f"hooks.slack/{TOKEN}"}, "AR_ALERT_SLACK_WEBHOOK_URL"),
        (
            {
                "AR_ALERT_SMTP_URL": f"imap://u:{TOKEN}@mail.example.com",
                "AR_ALERT_EMAIL_FROM": SENDER,
                "AR_ALERT_EMAIL_TO": RECIPIENTS[0],
            },
            "AR_ALERT_SMTP_URL",
        ),
        (
            {
                "AR_ALERT_SMTP_URL": f"smtp://u:{TOKEN}@mail.example.com",
                "AR_ALERT_EMAIL_FROM": SENDER,
                "AR_ALERT_EMAIL_TO": " , ",
            },
            "AR_ALERT_EMAIL_TO",
        ),
    ],
)
def test_a_malformed_variable_is_an_error_naming_it_not_its_value(
    environ: dict[str, str], named: str
) -> None:
    with pytest.raises(NotifyConfigError) as raised:
        Notifier.from_environment(environ)

    assert named in str(raised.value)
    assert TOKEN not in str(raised.value)


def test_the_run_link_is_the_dagster_ui_run_page_or_none_without_a_base_url() -> None:
    assert run_url("http://dagster:3000/", "abc-123") == "http://dagster:3000/runs/abc-123"
    assert run_url("http://dagster:3000", "abc-123") == "http://dagster:3000/runs/abc-123"
    assert run_url(None, "abc-123") is None
    assert run_url("  ", "abc-123") is None


def test_the_plain_text_leaves_out_what_the_message_does_not_have() -> None:
    text = Message(practice_id="PR-1", title="nightly_sync run failed").text()

    assert text == "[ar-pipelines] PR-1: nightly_sync run failed\n"


def test_a_title_is_one_line() -> None:
    with pytest.raises(ValueError, match="one line"):
        Message(practice_id="PR-1", title="failed\nSubject: injected")


def test_the_redactor_masks_overlapping_and_percent_decoded_secrets_entirely() -> None:
    redact = Redactor(url_secrets("https://hooks.example.com/a%20b/cdef?key=ghij"))

    assert redact("see https://hooks.example.com/a%20b/cdef?key=ghij now") == "see *** now"
    assert redact("path a b/cdef, key=ghij") == "path ***, ***"
    assert Redactor(["abcd", "cdef"])("xabcdefx") == "x***x"
    assert Redactor(["ab"])("ab ab") == "*** ***"
    assert repr(Redactor(["abcd"])) == "Redactor(1 secrets)"
