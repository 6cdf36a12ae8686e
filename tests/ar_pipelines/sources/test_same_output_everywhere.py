"""One generated practice, read from SQLite, Postgres, MariaDB and through the Sikka
API, normalizes to byte-identical customers, ledger entries and quarantine."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from ar_demo.generate import demo_metadata, generate
from ar_pipelines.normalize import normalize, write_outputs
from ar_pipelines.sources import schema
from ar_pipelines.sources.base import Source
from ar_pipelines.sources.rest_reader import SikkaRestSource
from ar_pipelines.sources.sql_reader import SqlSource
from tests.ar_pipelines.sources.sikka_server import Credentials, create_sikka_app, running_sikka

PRACTICE = "P002"  # bills guarantors: the harder mapping
TODAY = date(2026, 11, 21)
OUTPUTS = ("customers.csv", "ledger_entries.csv", "quarantine.csv")


def generated(url: str) -> str:
    generate(
        url, practices=2, patients=40, months=4, seed=5, defect_rate=0.1, end=date(2026, 6, 30)
    )
    return url


def normalized(source: Source, out_dir: Path) -> dict[str, bytes]:
    result = normalize(
        practices=source.practices(practice_id=PRACTICE),
        payment_types=source.payment_types(practice_id=PRACTICE),
        patients=source.patients(practice_id=PRACTICE),
        transactions=source.transactions(practice_id=PRACTICE),
        today=TODAY,
    )
    assert result.counts.conserved
    write_outputs(result, out_dir)
    return {name: (out_dir / name).read_bytes() for name in OUTPUTS}


@pytest.fixture(scope="module")
def from_sqlite(tmp_path_factory: pytest.TempPathFactory) -> tuple[str, dict[str, bytes]]:
    directory = tmp_path_factory.mktemp("sqlite")
    url = generated(f"sqlite:///{directory / 'source.db'}")
    with SqlSource(url, chunk_size=37) as source:
        return url, normalized(source, directory / "out")


def test_the_outputs_are_not_trivial(from_sqlite: tuple[str, dict[str, bytes]]) -> None:
    _, outputs = from_sqlite
    lines = {name: content.count(b"\n") for name, content in outputs.items()}
    assert lines["customers.csv"] > 20
    assert lines["ledger_entries.csv"] > 50
    assert lines["quarantine.csv"] > 5


def emptied(url: str) -> str:
    """The session's shared database with no source tables: other tests fill it too."""
    engine = schema.source_engine(url)
    demo_metadata.drop_all(engine)
    schema.metadata.drop_all(engine)
    engine.dispose()
    return url


@pytest.mark.parametrize("database", ["postgres_url", "mysql_url"])
def test_postgres_and_mariadb_sources_normalize_exactly_as_sqlite(
    database: str,
    request: pytest.FixtureRequest,
    tmp_path: Path,
    from_sqlite: tuple[str, dict[str, bytes]],
) -> None:
    url = generated(emptied(request.getfixturevalue(database)))
    try:
        with SqlSource(url, chunk_size=50) as source:
            assert normalized(source, tmp_path) == from_sqlite[1]
    finally:
        emptied(url)


def test_the_sikka_api_normalizes_exactly_as_the_database_behind_it(
    tmp_path: Path, from_sqlite: tuple[str, dict[str, bytes]]
) -> None:
    url, expected = from_sqlite
    credentials = Credentials()
    with running_sikka(create_sikka_app(url, credentials=credentials)) as sikka:
        api = SikkaRestSource(base_url=sikka.base_url, page_size=25, **credentials.as_kwargs())
        with api:
            assert normalized(api, tmp_path) == expected
