"""A night on a source that reports its deletions does no whole-practice work: no key
scan (the index of stored rows settles numbers several rows hold, as the scan would),
and only the customers that changed are written; yet what it stores is what a run with
the full key scan stores."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ar_pipelines.normalize import Normalizer
from ar_pipelines.normalize.present import KEY_COLUMNS, ROW_KEY
from ar_pipelines.normalize.transactions import LEDGER_COLUMNS
from ar_pipelines.sources.base import Source
from ar_pipelines.sources.frames import Extract
from ar_pipelines.sync import NormalizeOutcome, normalize_practice
from ar_pipelines.sync.extract import WHOLE_READ
from ar_pipelines.sync.practice import PracticeIds
from ar_pipelines.warehouse import (
    CUSTOMERS,
    LEDGER_ENTRIES,
    PUSH_STATE,
    QUARANTINE,
    RAW_GUARANTORS,
    RAW_PATIENTS,
    RAW_TRANSACTIONS,
    Warehouse,
    open_warehouse,
)
from tests.ar_pipelines.normalize.rows import (
    SETTINGS,
    guarantors,
    patient,
    patients,
    payment_types,
    transaction,
    transactions,
)

PRACTICE = PracticeIds("P1", "P1")


@dataclass
class Office(Source):
    """A landed transactions table held in memory, rows by their loader's key, each
    loaded on a night; deletions leave an event (``practice_events``), a flagged row (a
    loader's deleted column) or no trace. Counts its key scans."""

    deletion_signal: bool = True
    keyed: bool = True
    rows: dict[int, dict[str, Any]] = field(default_factory=dict)
    flagged: dict[int, dict[str, Any]] = field(default_factory=dict)
    events: list[dict[str, Any]] = field(default_factory=list)
    people: dict[str, dict[str, Any]] = field(default_factory=dict)
    night: int = 0
    scans: int = 0
    scans_keys_cheaply = True

    @property
    def reports_deletions(self) -> bool:
        return self.deletion_signal

    def load(self, key: int, sr_no: str, **fields: Any) -> None:
        self.rows[key] = transaction(sr_no, row_key=str(key), **self._loaded(), **fields)

    def edit(self, key: int, **fields: Any) -> None:
        self.rows[key] = {**self.rows[key], **self._loaded(), **fields}

    def delete(self, key: int, trace: str = "event") -> None:
        row = self.rows.pop(key)
        if trace == "event":
            sr_no = row["transaction_sr_no"]
            self.events.append(transaction(sr_no, is_deleted="true", **self._loaded()))
        elif trace == "flag":
            self.flagged[key] = {**row, "is_deleted": "true", **self._loaded()}

    def increment(self, *, whole: bool) -> pd.DataFrame:
        """The rows loaded since the last night (and the night before: the lookback),
        then the deletions of those nights; every live row on a whole read."""
        since = f"{self.night - 1:04d}"

        def new(row: dict[str, Any]) -> bool:
            return whole or row["loaded_date"] >= since

        chosen = [row for _, row in sorted(self.rows.items()) if new(row)]
        if not whole:
            chosen += [row for _, row in sorted(self.flagged.items()) if new(row)]
            chosen += [row for row in self.events if new(row)]
        return transactions(*chosen)

    def key_scan(self) -> pd.DataFrame:
        return transactions(*self.rows.values()).loc[:, [*KEY_COLUMNS, ROW_KEY]]

    def transaction_keys(self, *, practice_id: str | None = None) -> Iterator[pd.DataFrame]:
        self.scans += 1
        yield self.key_scan()

    def payment_types(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return payment_types()

    def patients(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return patients(*self.people.values())

    def guarantors(self, *, practice_id: str | None = None) -> pd.DataFrame:
        return guarantors()

    def practices(self, *, practice_id: str | None = None) -> pd.DataFrame:
        raise NotImplementedError

    def _read_transactions(self, practice_id: Any, since: Any, loaded_from: Any) -> Extract:
        raise NotImplementedError

    def close(self) -> None:
        pass

    def _loaded(self) -> dict[str, str]:
        return {"loaded_date": f"{self.night:04d} load"}


def night(
    store: Warehouse, office: Office, *, whole: bool = False, full_deletion_scan: bool = False
) -> NormalizeOutcome:
    """A nightly run's extract (stored as the extract stores it) and normalization."""
    store.replace(RAW_TRANSACTIONS, office.increment(whole=whole), practice_id="P1")
    store.replace(RAW_PATIENTS, office.patients(), practice_id="P1")
    store.replace(RAW_GUARANTORS, office.guarantors(), practice_id="P1")
    if whole:
        store.set_cursor("P1", WHOLE_READ, pd.Timestamp("2026-05-01").to_pydatetime())
    else:
        store.clear_cursor("P1", WHOLE_READ)
    outcome = normalize_practice(
        store, office, PRACTICE, settings=SETTINGS, full_deletion_scan=full_deletion_scan
    )
    office.night += 1
    counts = outcome.ledger_counts
    assert counts.transactions_read == counts.ledger_entries + counts.transactions_quarantined
    return outcome


def stored(store: Warehouse) -> tuple[dict[str, tuple[Any, ...]], set[tuple[Any, ...]]]:
    """The ledger by external id, and the open quarantine (source key, reason, detail)."""
    ledger = store.read(LEDGER_ENTRIES, practice_id="P1", columns=list(LEDGER_COLUMNS))
    quarantine = store.read(
        QUARANTINE, practice_id="P1", columns=["source_key", "reason", "detail"]
    )
    return (
        {str(row[0]): row for row in ledger.itertuples(index=False, name=None)},
        set(quarantine.itertuples(index=False, name=None)),
    )


def customers(store: Warehouse) -> list[tuple[Any, ...]]:
    frame = store.read(CUSTOMERS, practice_id="P1")
    return sorted(frame.itertuples(index=False, name=None))


@pytest.fixture
def store() -> Iterator[Warehouse]:
    with open_warehouse("duckdb:///:memory:") as opened:
        yield opened


def _office(**options: Any) -> Office:
    office = Office(**options)
    office.people = {"100": patient("100"), "101": patient("101", firstname="Joe")}
    office.load(1, "5", amount="61.0000")
    office.load(2, "6", amount="70.0000")
    office.load(3, "7", amount="80.0000")
    if not office.keyed:
        for row in office.rows.values():
            row[ROW_KEY] = None
    return office


def amounts(store: Warehouse) -> dict[str, str]:
    ledger, _ = stored(store)
    return {external_id: str(row[4]) for external_id, row in ledger.items()}


def pushed(store: Warehouse) -> None:
    """As if every stored entry had been pushed: a void is made only of what AR holds."""
    ids = store.read(LEDGER_ENTRIES, practice_id="P1", columns=["external_id"])["external_id"]
    state = pd.DataFrame(
        {name: pd.Series([None] * len(ids), dtype=object) for name in PUSH_STATE.column_names}
    ).assign(
        practice_id="P1",
        kind="ledger_entries",
        external_id=ids.to_numpy(dtype=object),
        payload_hash="pushed",
        last_result="created",
        pushed_at=pd.Timestamp("2026-05-01"),
    )
    store.upsert(PUSH_STATE, state)


def test_a_night_on_a_source_that_reports_deletions_does_not_scan_its_keys(
    store: Warehouse,
) -> None:
    office = _office()
    night(store, office, whole=True)
    office.edit(1, amount="62.0000")
    office.load(4, "8", amount="90.0000")
    office.delete(2, trace="event")

    outcome = night(store, office)

    assert office.scans == 0
    assert amounts(store) == {"P1-5": "62.00", "P1-6": "0.00", "P1-7": "80.00", "P1-8": "90.00"}
    assert outcome.ledger_counts.voids_of_deleted_rows == 1


def test_a_source_without_a_deletion_signal_is_scanned_every_night(store: Warehouse) -> None:
    office = _office(deletion_signal=False)
    night(store, office, whole=True)

    night(store, office)
    night(store, office)

    assert office.scans == 2


def test_the_full_deletion_scan_voids_rows_deleted_without_a_trace(store: Warehouse) -> None:
    office = _office()
    night(store, office, whole=True)
    pushed(store)
    office.delete(3, trace="none")

    night(store, office)
    assert office.scans == 0
    assert amounts(store)["P1-7"] == "80.00"  # a night cannot see it

    outcome = night(store, office, full_deletion_scan=True)
    assert office.scans == 1
    assert amounts(store)["P1-7"] == "0.00"
    assert outcome.ledger_counts.voids_of_disappeared_rows == 1


# --- the index settles a night as the scan does -----------------------------------------

NUMBERS = ["5", "6", "7"]
steps = st.lists(
    st.one_of(
        st.tuples(st.just("load"), st.sampled_from(NUMBERS), st.integers(1, 9)),
        st.tuples(st.just("edit"), st.integers(0, 20), st.integers(1, 9)),
        st.tuples(st.just("renumber"), st.integers(0, 20), st.sampled_from(NUMBERS)),
        st.tuples(st.just("delete"), st.integers(0, 20), st.sampled_from(["event", "flag"])),
        st.tuples(st.just("night"), st.just(0), st.just(0)),
    ),
    max_size=10,
)


def apply(office: Office, step: tuple[str, Any, Any], next_key: int) -> int:
    action, first, second = step
    keys = sorted(office.rows)
    if action == "load":
        office.load(next_key, first, amount=f"{second}0.0000")
        if not office.keyed:
            office.rows[next_key][ROW_KEY] = None
        return next_key + 1
    if not keys:
        return next_key
    key = keys[first % len(keys)]
    if action == "edit":
        office.edit(key, amount=f"{second}1.0000")
    elif action == "renumber":
        office.edit(key, transaction_sr_no=second)
    elif action == "delete":
        office.delete(key, trace=second if office.keyed else "event")
    return next_key


@settings(max_examples=5, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(keyed=st.booleans(), script=steps)
def test_nights_settled_by_the_index_store_what_nights_with_the_key_scan_store(
    keyed: bool, script: list[tuple[str, Any, Any]]
) -> None:
    offices = [_office(keyed=keyed), _office(keyed=keyed)]
    with (
        open_warehouse("duckdb:///:memory:") as nightly,
        open_warehouse("duckdb:///:memory:") as scanned,
    ):
        for office, store in zip(offices, (nightly, scanned), strict=True):
            night(store, office, whole=True)
        next_key = 10
        for step in [*script, ("night", 0, 0)]:
            if step[0] == "night":
                night(nightly, offices[0])
                night(scanned, offices[1], full_deletion_scan=True)
                assert stored(nightly) == stored(scanned)
                assert customers(nightly) == customers(scanned)
                continue
            for office in offices:
                apply(office, step, next_key)
            next_key += step[0] == "load"


def test_a_duplicate_loaded_later_is_judged_by_the_index_as_the_scan_judges_it(
    warehouse: Warehouse,
) -> None:
    store = warehouse  # on DuckDB and on Postgres
    office = _office()
    night(store, office, whole=True)
    office.load(4, "5", amount="66.0000")  # a second row of number 5, after its record
    night(store, office)
    office.edit(1, amount="62.0000")  # the record, edited while the duplicate exists
    office.edit(4, amount="67.0000")  # the duplicate, edited: still a duplicate
    night(store, office)

    assert office.scans == 0
    ledger, quarantine = stored(store)
    assert str(ledger["P1-5"][4]) == "62.00"
    assert quarantine == {
        (
            "transactions#row:4",
            "duplicate_transaction",
            "transaction_sr_no '5' of practice 'P1' is held by another source row too"
            " (row key '1'), which is kept",
        )
    }


def test_a_deletion_event_of_a_number_several_rows_hold_falls_back_to_the_scan(
    store: Warehouse,
) -> None:
    office = _office()
    office.load(4, "5", amount="66.0000")
    night(store, office, whole=True)
    office.delete(1, trace="event")  # the record of 5: which row went, only a scan says

    night(store, office)

    assert office.scans == 1
    _, quarantine = stored(store)
    assert [reason for _, reason, _ in quarantine] == ["duplicate_transaction"]


def full_rebuild(office: Office) -> list[tuple[Any, ...]]:
    """The customers a rebuild from every patient makes."""
    made = Normalizer(
        settings=SETTINGS,
        payment_types=payment_types(),
        patients=office.patients(),
        guarantors=office.guarantors(),
    ).customers
    frame = made.assign(practice_id="P1").loc[:, list(CUSTOMERS.column_names)]
    return sorted(frame.itertuples(index=False, name=None))


def test_a_night_writes_only_the_customers_that_changed_and_leaves_a_full_rebuilds_table(
    store: Warehouse,
) -> None:
    office = _office()
    office.people |= {str(p): patient(str(p)) for p in range(102, 110)}
    first = night(store, office, whole=True)
    assert first.customer_counts.customers_rebuilt == first.customer_counts.customers == 10

    office.people["102"] = patient("102", email="moved@example.org")
    office.people["103"] = patient("103", email="", cell="")  # no contact: quarantined
    del office.people["104"]
    office.people["110"] = patient("110")
    office.load(4, "8", patient_id="105")  # an entry of an unchanged patient
    outcome = night(store, office)

    assert customers(store) == full_rebuild(office)
    # 102 changed, 110 is new, 105 gained an entry and 100's entries were read again (the
    # lookback); 103 and 104 are gone.
    assert outcome.customer_counts.customers_rebuilt == 4
    assert outcome.customer_counts.customers == 9
    assert outcome.patients_quarantined == 1

    quiet = night(store, office)
    assert customers(store) == full_rebuild(office)
    assert quiet.customer_counts.customers_rebuilt == 1  # 105's entry, read again
