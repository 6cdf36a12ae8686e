"""The Notifications resource as the code location builds it from the environment."""

from __future__ import annotations

import dagster as dg
import pytest

from ar_pipelines.defs.notifications import notifications_from_environment

SECRET_URL = "http://hooks.example/services/T1/B1/s3cretpath"


def test_each_channel_variable_set_becomes_an_env_var_so_the_value_never_shows() -> None:
    resource = notifications_from_environment(
        {"AR_ALERT_WEBHOOK_URL": SECRET_URL, "AR_DAGSTER_UI_URL": "http://ui:3000"}
    )

    assert isinstance(resource.webhook_url, dg.EnvVar)
    assert resource.webhook_url.env_var_name == "AR_ALERT_WEBHOOK_URL"
    assert resource.slack_webhook_url == ""  # unset: no channel
    assert "s3cretpath" not in repr(resource)


def test_the_channels_are_built_from_the_values_at_run_time(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("AR_ALERT_WEBHOOK_URL", SECRET_URL)
    with dg.build_resources({"notifications": notifications_from_environment()}) as resources:
        live = resources.notifications

    [channel] = live.notifier().channels
    assert "s3cretpath" not in channel.name
    assert "s3cretpath" not in repr(live.notifier())


def test_without_variables_there_is_no_channel() -> None:
    assert notifications_from_environment({}).notifier().channels == ()
