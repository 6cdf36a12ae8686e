"""A practice read through Sikka ONE's REST API (the look-alike in tests/) syncs as a read
of its landed database does, and a night's changes push exactly what changed."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import delete, insert, select, update

from ar_demo.catalog import REFUND_PAYMENT_TYPE
from ar_pipelines.defs.notifications import Notifications
from ar_pipelines.normalize import PracticeSettings, normalize
from ar_pipelines.sources import schema
from ar_pipelines.sources.frames import as_practice
from ar_pipelines.sources.sql_reader import SqlLayout, SqlSource
from ar_pipelines.warehouse import open_warehouse
from tests.ar_pipelines.defs.conftest import Pipeline, materialized
from tests.ar_pipelines.defs.sensors import tick
from tests.ar_pipelines.notify.receivers import HttpReceiver, http_receiver
from tests.ar_pipelines.sources.sikka_server import (
    Credentials,
    RunningSikka,
    create_sikka_app,
    running_sikka,
)

CREDENTIALS = Credentials()
HOOK = "/hooks/stale"
PRACTICE, SIKKA_PRACTICE = "P002", "2"


@pytest.fixture
def sikka(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSikka]:
    with running_sikka(create_sikka_app(pipeline.source_url, credentials=CREDENTIALS)) as api:
        monkeypatch.setenv("SIKKA_APP_ID", CREDENTIALS.app_id)
        monkeypatch.setenv("SIKKA_APP_KEY", CREDENTIALS.app_key)
        (pipeline.root / "practices.toml").write_text(
            "\n".join(
                [
                    "[[practices]]",
                    f'id = "{PRACTICE}"',
                    'source = "sikka"',
                    f'sikka_base_url = "{api.base_url}/v4"',
                    f'office_id = "{CREDENTIALS.office_id}"',
                    f'sikka_practice_id = "{SIKKA_PRACTICE}"',
                    'bill_to = "guarantor"',
                    f'refund_payment_types = ["{REFUND_PAYMENT_TYPE}"]',
                    'sikka_app_id_env = "SIKKA_APP_ID"',
                    'sikka_app_key_env = "SIKKA_APP_KEY"',
                    f'ar_key_env = "AR_API_KEY_{PRACTICE}"',
                    "quarantine_threshold = 0.2",
                ]
            )
            + "\n"
        )
        yield api


@pytest.fixture
def receiver() -> Iterator[HttpReceiver]:
    with http_receiver() as state:
        yield state


def _ledger(pipeline: Pipeline) -> dict[str, object]:
    with open_warehouse(pipeline.warehouse_url) as store:
        synced = store.read("normalized.ledger_entries", practice_id=PRACTICE)
    return dict(zip(synced["external_id"], synced["amount"], strict=True))


def _a_days_changes(pipeline: Pipeline, synced: dict[str, object]) -> tuple[str, str, str]:
    """A new charge, an edited charge and a deleted charge, loaded a minute ago: the
    deletion only as a ``practice_events`` event (with one more event, of a row that never
    existed); the edited and deleted ones are charges
    the first run pushed (in ``synced``). Returns their transaction numbers."""
    loaded = datetime.now(UTC).replace(tzinfo=None, microsecond=0) - timedelta(minutes=1)
    table = schema.transactions
    engine = schema.source_engine(pipeline.source_url)
    with engine.begin() as connection:
        procedures = connection.execute(
            select(table)
            .where(table.c.practice_id == SIKKA_PRACTICE)
            .where(table.c.transaction_type == "Procedure")
            .order_by(table.c._row_id)
            .limit(500)
        ).all()
        charges = [r for r in procedures if synced.get(f"{PRACTICE}-{r.transaction_sr_no}")][:2]
        edited, deleted = charges
        new = {k: v for k, v in edited._mapping.items() if k != "_row_id"}
        new.update(transaction_sr_no="9900001", _loaded_at=loaded)
        connection.execute(insert(table), [new])
        connection.execute(
            update(table)
            .where(table.c._row_id == edited._row_id)
            .values(amount="123.0000", _loaded_at=loaded)
        )
        connection.execute(delete(table).where(table.c._row_id == deleted._row_id))
        event = {k: v for k, v in deleted._mapping.items() if k != "_row_id"}
        event.update(
            events="transactions",
            flag="Deleted",
            loadeddate=loaded.isoformat(),
            _loaded_at=loaded,
        )
        # And the deletion of a row no run ever read: nothing in AR to void.
        never = {**event, "transaction_sr_no": "9900002"}
        connection.execute(insert(schema.practice_events), [event, never])
    engine.dispose()
    return "9900001", str(edited.transaction_sr_no), str(deleted.transaction_sr_no)


def test_a_practice_read_through_the_rest_api_syncs_clean_and_a_nights_changes_push_exactly_those(
    pipeline: Pipeline, sikka: RunningSikka, receiver: HttpReceiver
) -> None:
    first = pipeline.run(PRACTICE)
    assert first.success
    assert materialized(first, "reconciliation")["clean"] is True
    layout = SqlLayout(office_id=CREDENTIALS.office_id)
    with SqlSource(pipeline.source_url, layout=layout) as source:
        expected = normalize(
            settings=PracticeSettings(
                bill_to="guarantor", refund_payment_types=(REFUND_PAYMENT_TYPE,)
            ),
            payment_types=as_practice(source.payment_types(practice_id=SIKKA_PRACTICE), PRACTICE),
            patients=as_practice(source.patients(practice_id=SIKKA_PRACTICE), PRACTICE),
            guarantors=as_practice(source.guarantors(practice_id=SIKKA_PRACTICE), PRACTICE),
            transactions=(
                as_practice(chunk, PRACTICE)
                for chunk in source.transactions(practice_id=SIKKA_PRACTICE)
            ),
        ).ledger_entries
    synced = _ledger(pipeline)
    assert sorted(synced.items()) == sorted(
        zip(expected["external_id"], expected["amount"], strict=True)
    )

    assert "stale_source_warning" not in materialized(first, "raw/transactions")

    added, edited, deleted = _a_days_changes(pipeline, synced)
    sikka.state.sync_status = "not_refresh"  # Sikka's link to the PMS fell behind
    night = pipeline.run(PRACTICE)

    assert night.success
    extracted = materialized(night, "raw/transactions")
    assert extracted["read"] == "incremental"
    assert "not_refresh" in extracted["stale_source_warning"]
    assert materialized(night, "ar/ledger_entries")["sent"] == 3
    assert materialized(night, "normalized/ledger_entries")["deletions_of_rows_never_stored"] == 1
    after = _ledger(pipeline)
    assert str(after[f"{PRACTICE}-{added}"]) == str(synced[f"{PRACTICE}-{edited}"])
    assert str(after[f"{PRACTICE}-{edited}"]) == "123.00"
    assert str(after[f"{PRACTICE}-{deleted}"]) == "0.00"
    assert materialized(night, "reconciliation")["clean"] is True

    # The office is not refreshing: the stale-source sensor alerts once, not every tick.
    notifications = Notifications(webhook_url=receiver.url(HOOK), retry_delays=[])
    first_tick = tick(pipeline, "stale_sources", notifications=notifications)
    [alert] = receiver.on(HOOK)
    assert alert.body["practice_id"] == PRACTICE
    assert alert.body["title"] == "source not refreshing"
    assert "not_refresh" in alert.body["text"]
    again = tick(pipeline, "stale_sources", first_tick.cursor, notifications=notifications)
    assert len(receiver.on(HOOK)) == 1
    assert again.skip_message == "nothing new; already alerted: P002 source_not_refreshing"
