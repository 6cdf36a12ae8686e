"""A practice read through Sikka ONE's REST API (the look-alike in tests/) syncs as one
read from its database does."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from ar_pipelines.normalize import normalize
from ar_pipelines.sources.sql_reader import SqlSource
from ar_pipelines.warehouse import open_warehouse
from tests.ar_pipelines.defs.conftest import Pipeline, materialized
from tests.ar_pipelines.sources.sikka_server import (
    Credentials,
    RunningSikka,
    create_sikka_app,
    running_sikka,
)

CREDENTIALS = Credentials()


@pytest.fixture
def sikka(pipeline: Pipeline, monkeypatch: pytest.MonkeyPatch) -> Iterator[RunningSikka]:
    with running_sikka(create_sikka_app(pipeline.source_url, credentials=CREDENTIALS)) as api:
        monkeypatch.setenv("SIKKA_SECRET_KEY", CREDENTIALS.secret_key)
        monkeypatch.setenv("SIKKA_APP_ID", CREDENTIALS.app_id)
        monkeypatch.setenv("SIKKA_APP_KEY", CREDENTIALS.app_key)
        (pipeline.root / "practices.toml").write_text(
            "\n".join(
                [
                    "[[practices]]",
                    'id = "P002"',
                    'source = "sikka"',
                    f'sikka_base_url = "{api.base_url}"',
                    f'sikka_office_id = "{CREDENTIALS.office_id}"',
                    'sikka_secret_key_env = "SIKKA_SECRET_KEY"',
                    'sikka_app_id_env = "SIKKA_APP_ID"',
                    'sikka_app_key_env = "SIKKA_APP_KEY"',
                    'ar_key_env = "AR_API_KEY_P002"',
                    "quarantine_threshold = 0.2",
                ]
            )
            + "\n"
        )
        yield api


def test_a_practice_read_through_the_rest_api_syncs_clean_with_the_same_entries(
    pipeline: Pipeline, sikka: RunningSikka
) -> None:
    result = pipeline.run("P002")
    assert result.success
    assert materialized(result, "reconciliation")["clean"] is True
    with SqlSource(pipeline.source_url) as source:
        expected = normalize(
            practices=source.practices(practice_id="P002"),
            payment_types=source.payment_types(practice_id="P002"),
            patients=source.patients(practice_id="P002"),
            transactions=source.transactions(practice_id="P002"),
        ).ledger_entries
    with open_warehouse(pipeline.warehouse_url) as store:
        synced = store.read("normalized.ledger_entries", practice_id="P002")
    assert sorted(zip(synced["external_id"], synced["amount"], strict=True)) == sorted(
        zip(expected["external_id"], expected["amount"], strict=True)
    )
    assert materialized(pipeline.run("P002"), "ar/ledger_entries")["sent"] == 0
