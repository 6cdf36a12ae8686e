"""An incremental build of a practice's models (only the customers whose ledger entries
changed since the last build) leaves the marts exactly as a full rebuild of the same
ledger does: same rows, same values, same types, on DuckDB and on Postgres.

Each example starts from a random ledger, loaded over a few nights and built in full,
then changes it as the normalizer does (new entries, amounts and dates changed, voids,
entries moved to another customer, a customer's entries all voided or deleted from the
table), some of it written in the very instant of the last build's watermark, and builds
incrementally. A full rebuild of the same ledger into another schema must give the same
marts; the customers computed again must be exactly those the changes touched and those
with rows loaded at the watermark.
"""

from __future__ import annotations

import tempfile
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from pathlib import Path
from typing import ClassVar

import dagster as dg
import pandas as pd
import psycopg
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from psycopg import sql

from ar_demo.entries import SIGN
from ar_pipelines.cli.demo import practices_file
from ar_pipelines.defs.resources import Settings, WarehouseResource
from ar_pipelines.defs.statements_dbt import dbt_statement_assets
from ar_pipelines.normalize.transactions import LEDGER_COLUMNS
from ar_pipelines.statements.dbt import build_statements, practice_build, practice_schema
from ar_pipelines.statements.reference import LedgerEntry
from ar_pipelines.warehouse import LEDGER_ENTRIES, Warehouse, open_warehouse
from ar_pipelines.warehouse.location import PostgresLocation, parse_location
from tests.conftest import POSTGRES_ENV, configured_server
from tests.ledger_strategies import DAYS, ledger_entries

MARTS = ("statements", "payment_allocations", "customer_credits")
PRACTICE_ID = "P1"
OTHER_PRACTICE_ID = "P2"  # its rows share the table and must never be read
FEW_EXAMPLES = settings(
    max_examples=4,
    deadline=None,
    # Every example is three dbt builds: shrinking a failure would take minutes. Customers
    # are independent, so a failing example is read customer by customer instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=[
        HealthCheck.too_slow,
        HealthCheck.data_too_large,
        HealthCheck.function_scoped_fixture,
    ],
)
# The initial ledger was loaded over three nights; changes come later.
NIGHTS = [datetime(2026, 4, 1, 2, 0, tzinfo=UTC) + timedelta(days=n) for n in range(3)]
CHANGED_AT = NIGHTS[-1] + timedelta(days=1)


@dataclass(frozen=True)
class Practice:
    """One practice, built into the schema its suffix names."""

    id: str
    schema_suffix: str


INCREMENTAL = Practice(PRACTICE_ID, "incremental")
REBUILT = Practice(PRACTICE_ID, "rebuilt")


@dataclass(frozen=True)
class Built:
    warehouse: Warehouse
    work_dir: Path


@pytest.fixture(scope="module")
def duckdb_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    work = tmp_path_factory.mktemp("incremental")
    with open_warehouse(f"duckdb:///{work / 'warehouse.duckdb'}") as warehouse, warehouse.session():
        yield Built(warehouse, work)


@pytest.fixture(scope="module")
def postgres_built(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Built]:
    base = configured_server(POSTGRES_ENV, "Postgres", "postgresql://postgres@127.0.0.1:5432/test")
    prefix = f"t{uuid.uuid4().hex[:10]}_"
    try:
        with open_warehouse(base, schema_prefix=prefix) as warehouse:
            yield Built(warehouse, tmp_path_factory.mktemp("incremental_pg"))
    finally:
        _drop_schemas(base, prefix)


def _drop_schemas(url: str, prefix: str) -> None:
    """Every schema under the prefix: the warehouse's own and the practices' models."""
    location = parse_location(url)
    assert isinstance(location, PostgresLocation)
    with psycopg.connect(**location.connect_kwargs(), autocommit=True) as connection:
        schemas = connection.execute(
            "select schema_name from information_schema.schemata"
            " where starts_with(schema_name, %s)",
            (prefix,),
        ).fetchall()
        for (schema,) in schemas:
            connection.execute(sql.SQL("drop schema {} cascade").format(sql.Identifier(schema)))


# --- the ledger table ---------------------------------------------------------------------


@dataclass(frozen=True)
class Loaded:
    """A ledger entry as the table holds it: when it was last written."""

    entry: LedgerEntry
    loaded_at: datetime


def write_entries(warehouse: Warehouse, practice_id: str, rows: list[Loaded]) -> None:
    if not rows:
        return
    columns: dict[str, list[object]] = {
        "practice_id": [practice_id] * len(rows),
        "external_id": [row.entry.external_id for row in rows],
        "customer_external_id": [row.entry.customer for row in rows],
        "transaction_date": [row.entry.transaction_date for row in rows],
        "transaction_type": [row.entry.transaction_type for row in rows],
        "amount": [row.entry.amount for row in rows],
        "loaded_at": [row.loaded_at for row in rows],
    }
    for name in LEDGER_COLUMNS:  # the optional ones empty
        columns.setdefault(name, [None] * len(rows))
    warehouse.upsert(LEDGER_ENTRIES, pd.DataFrame(columns))


def load_ledger(warehouse: Warehouse, practice_id: str, rows: list[Loaded]) -> None:
    """The practice's rows of the table replaced by ``rows``."""
    held = warehouse.read(LEDGER_ENTRIES, practice_id=practice_id, columns=["external_id"])
    warehouse.delete(
        LEDGER_ENTRIES,
        practice_id=practice_id,
        column="external_id",
        values=list(held["external_id"]),
    )
    write_entries(warehouse, practice_id, rows)


# --- changes ------------------------------------------------------------------------------


@dataclass(frozen=True)
class Changes:
    written: list[LedgerEntry]  # inserted or updated
    deleted: list[str]  # external ids deleted from the table


@st.composite
def changes(draw: st.DrawFn, entries: dict[str, LedgerEntry]) -> Changes:
    """A night's changes to ``entries`` (by external id), as the normalizer writes them."""
    current = dict(entries)
    written: dict[str, LedgerEntry] = {}
    deleted: set[str] = set()
    customers = sorted({entry.customer for entry in current.values()})
    ids = sorted(current)
    operations = draw(
        st.lists(
            st.sampled_from(["new", "amount", "date", "void", "move", "void_all", "delete_all"]),
            min_size=1,
            max_size=6,
        )
    )
    for number, operation in enumerate(operations):
        live = [external_id for external_id in ids if external_id not in deleted]
        if operation == "new" or not live:
            kind = draw(st.sampled_from(sorted(SIGN)))
            customer = draw(st.sampled_from([*customers, "PT-NEW"]))
            entry = LedgerEntry(
                f"N~{number}",
                customer,
                draw(st.sampled_from(DAYS)),
                kind,
                Decimal(SIGN[kind] * draw(st.integers(0, 30_000))) / 100,
            )
        elif operation in ("void_all", "delete_all"):
            customer = draw(st.sampled_from(customers))
            mine = [i for i in live if current[i].customer == customer]
            for external_id in mine:
                if operation == "void_all":
                    written[external_id] = replace(current[external_id], amount=Decimal("0.00"))
                    current[external_id] = written[external_id]
                else:
                    deleted.add(external_id)
                    written.pop(external_id, None)
            continue
        else:
            entry = current[draw(st.sampled_from(live))]
            if operation == "amount":
                cents = draw(st.integers(1, 30_000))
                entry = replace(entry, amount=Decimal(SIGN[entry.transaction_type] * cents) / 100)
            elif operation == "date":
                entry = replace(entry, transaction_date=draw(st.sampled_from(DAYS)))
            elif operation == "void":
                entry = replace(entry, amount=Decimal("0.00"))
            else:
                others = [c for c in customers if c != entry.customer] or ["PT-NEW"]
                entry = replace(entry, customer=draw(st.sampled_from(others)))
        current[entry.external_id] = entry
        written[entry.external_id] = entry
    return Changes(list(written.values()), sorted(deleted))


def apply(
    warehouse: Warehouse,
    table: dict[str, Loaded],
    change: Changes,
    data: st.DataObject,
    instants: st.SearchStrategy[datetime],
) -> set[str]:
    """Write ``change``, each entry at one of ``instants``; returns the customers it
    touched (those of the entries before and after it)."""
    touched = {table[i].entry.customer for i in change.deleted}
    for external_id in change.deleted:
        del table[external_id]
    warehouse.delete(
        LEDGER_ENTRIES, practice_id=PRACTICE_ID, column="external_id", values=change.deleted
    )
    written = [Loaded(entry, data.draw(instants, label="loaded at")) for entry in change.written]
    for row in written:
        if row.entry.external_id in table:
            touched.add(table[row.entry.external_id].entry.customer)
        touched.add(row.entry.customer)
        table[row.entry.external_id] = row
    write_entries(warehouse, PRACTICE_ID, written)
    return touched


# --- the marts ----------------------------------------------------------------------------


def mart_rows(built: Built, practice: Practice, mart: str) -> list[tuple[str, ...]]:
    """The mart's rows, each value as text, sorted."""
    schema = practice_schema(practice, built.warehouse.schema_prefix)
    rows = built.warehouse.query(f"select * from {built.warehouse.qualified(schema, mart)}")  # noqa: S608
    return sorted(tuple(str(value) for value in row) for row in rows.itertuples(index=False))


def mart_types(built: Built, practice: Practice, mart: str) -> list[tuple[str, ...]]:
    schema = practice_schema(practice, built.warehouse.schema_prefix)
    mark = built.warehouse.placeholder
    found = built.warehouse.query(
        "select column_name, data_type, numeric_precision, numeric_scale"  # noqa: S608
        " from information_schema.columns"
        f" where table_schema = {mark} and table_name = {mark} order by ordinal_position",
        [schema, mart],
    )
    return [tuple(str(value) for value in row) for row in found.itertuples(index=False)]


def touched_customers(built: Built, practice: Practice) -> set[str]:
    schema = practice_schema(practice, built.warehouse.schema_prefix)
    relation = built.warehouse.qualified(schema, "int_touched_customers")
    found = built.warehouse.query(f"select customer_external_id from {relation}")  # noqa: S608
    return set(found["customer_external_id"])


def build(built: Built, practice: Practice, *, full_refresh: bool, run_tests: bool) -> None:
    build_statements(
        built.warehouse,
        built.work_dir,
        practice=practice,
        full_refresh=full_refresh,
        run_tests=run_tests,
    )


# --- the property -------------------------------------------------------------------------


def check_incremental_equals_rebuilt(built: Built, data: st.DataObject, *, run_tests: bool) -> None:
    entries = data.draw(ledger_entries(), label="ledger")
    size = len(entries)
    nights = data.draw(st.lists(st.sampled_from(NIGHTS), min_size=size, max_size=size))
    table = {e.external_id: Loaded(e, night) for e, night in zip(entries, nights, strict=True)}
    load_ledger(built.warehouse, PRACTICE_ID, list(table.values()))
    # Another practice's rows in the same table, under the same customers: never read.
    strangers = [Loaded(replace(e, external_id=f"X{e.external_id}"), CHANGED_AT) for e in entries]
    load_ledger(built.warehouse, OTHER_PRACTICE_ID, strangers[:5])
    build(built, INCREMENTAL, full_refresh=True, run_tests=False)

    # A night's changes, written by a later run than any the last build saw. Exactly
    # their customers are computed again: those of the entries before and after.
    drawn = changes({i: row.entry for i, row in table.items()})
    at = st.just(CHANGED_AT)
    touched = apply(built.warehouse, table, data.draw(drawn, label="changes"), data, at)
    # With ``run_tests``, the data tests pass on the marts built incrementally.
    build(built, INCREMENTAL, full_refresh=False, run_tests=run_tests)
    assert touched_customers(built, INCREMENTAL) == touched

    assert_marts_equal_a_full_rebuild(built)
    assert mart_rows(built, REBUILT, "customer_credits")  # the ledger was built at all


def assert_marts_equal_a_full_rebuild(built: Built) -> None:
    build(built, REBUILT, full_refresh=True, run_tests=False)
    for mart in MARTS:
        assert mart_types(built, INCREMENTAL, mart) == mart_types(built, REBUILT, mart)
        assert mart_rows(built, INCREMENTAL, mart) == mart_rows(built, REBUILT, mart), mart


@FEW_EXAMPLES
@given(data=st.data())
def test_an_incremental_build_on_duckdb_equals_a_full_rebuild_after_random_changes(
    duckdb_built: Built, data: st.DataObject
) -> None:
    check_incremental_equals_rebuilt(duckdb_built, data, run_tests=True)


@pytest.mark.postgres
@settings(FEW_EXAMPLES, max_examples=2)
@given(data=st.data())
def test_an_incremental_build_on_postgres_equals_a_full_rebuild_after_random_changes(
    postgres_built: Built, data: st.DataObject
) -> None:
    # The data tests are the same SQL on both; on DuckDB they run with every example.
    check_incremental_equals_rebuilt(postgres_built, data, run_tests=False)


def test_a_build_that_misses_a_kept_table_computes_every_customer_again(
    duckdb_built: Built,
) -> None:
    day = NIGHTS[0].date()
    entries = [
        LedgerEntry("C-1", "PT-1", day, "charge", Decimal("240.00")),
        LedgerEntry("P-1", "PT-1", day, "patient_payment", Decimal("-100.00")),
        LedgerEntry("C-2", "PT-2", day, "charge", Decimal("50.00")),
        LedgerEntry("C-3", "PT-3", day, "charge", Decimal("20.00")),
    ]
    load_ledger(duckdb_built.warehouse, PRACTICE_ID, [Loaded(e, NIGHTS[0]) for e in entries])
    build(duckdb_built, INCREMENTAL, full_refresh=False, run_tests=False)
    # The statements of PT-3 would be left behind by a build of the ledger's customers.
    duckdb_built.warehouse.delete(
        LEDGER_ENTRIES, practice_id=PRACTICE_ID, column="external_id", values=["C-3"]
    )
    schema = practice_schema(INCREMENTAL, duckdb_built.warehouse.schema_prefix)
    with duckdb_built.warehouse.connect() as connection:
        connection.execute(f"drop table {duckdb_built.warehouse.qualified(schema, 'statements')}")

    build(duckdb_built, INCREMENTAL, full_refresh=False, run_tests=False)

    assert touched_customers(duckdb_built, INCREMENTAL) == {"PT-1", "PT-2", "PT-3"}
    assert_marts_equal_a_full_rebuild(duckdb_built)


# --- the full rebuild on demand -----------------------------------------------------------


def test_practice_build_asks_dbt_for_a_full_refresh_only_when_told(duckdb_built: Built) -> None:
    incremental = practice_build(duckdb_built.warehouse, INCREMENTAL)
    full = practice_build(duckdb_built.warehouse, INCREMENTAL, full_refresh=True)

    assert "--full-refresh" not in incremental.arguments
    assert "--full-refresh" in full.arguments
    # The flag is no var: both builds start from the same kept parse.
    assert full.parse_cache == incremental.parse_cache


class RecordingDbt(dg.ConfigurableResource):  # type: ignore[type-arg]
    """Stands in for dbt's command line: keeps the arguments of each invocation."""

    calls: ClassVar[list[list[str]]] = []

    def cli(self, args: list[str], *, context: object = None) -> RecordedInvocation:
        self.calls.append(list(args))
        return RecordedInvocation(Path(tempfile.mkdtemp(prefix="dbt-target-")))


@dataclass(frozen=True)
class RecordedInvocation:
    target_path: Path

    def stream(self) -> Iterator[object]:
        return iter(())


@pytest.mark.parametrize("full_refresh", [False, True])
def test_the_models_run_config_dbt_full_refresh_asks_dbt_for_a_full_refresh(
    full_refresh: bool, tmp_path: Path
) -> None:
    practices = tmp_path / "practices.toml"
    practices.write_text(practices_file(f"sqlite:///{tmp_path / 'source.db'}", ["P001"]))
    assets = dbt_statement_assets(dg.StaticPartitionsDefinition(["P001"]))
    RecordingDbt.calls.clear()

    dg.materialize(
        assets,
        partition_key="P001",
        resources={
            "dbt": RecordingDbt(),
            "warehouse": WarehouseResource(url=f"duckdb:///{tmp_path / 'warehouse.duckdb'}"),
            "settings": Settings(practices_file=str(practices)),
        },
        run_config={"ops": {"statement_models": {"config": {"dbt_full_refresh": full_refresh}}}},
    )

    [arguments] = RecordingDbt.calls
    assert arguments[0] == "build"
    assert ("--full-refresh" in arguments) is full_refresh
