"""A row read again is the same record, told by the loader's row key: an edit updates
the entry the row made even while another row holds its number, and rows that hold one
number at the same time are duplicates, settled by row key alike in every run."""

from __future__ import annotations

from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

import pandas as pd

from ar_pipelines.normalize import Normalizer, normalize
from ar_pipelines.normalize.present import (
    KEY_COLUMNS,
    ROW_KEY,
    earlier_external_ids,
    row_key_order,
    source_keys,
)
from ar_pipelines.normalize.reasons import Reason
from tests.ar_pipelines.normalize.rows import (
    SETTINGS,
    TODAY,
    default_normalizer,
    patients,
    payment_types,
    transaction,
    transactions,
)

T1, T2, T3 = "2026-05-01 08:00:00", "2026-05-01 09:00:00", "2026-05-02 08:00:00"
HELD_TWICE = "transaction_sr_no '{}' of practice 'P1' is held by another source row too"


@dataclass
class Office:
    """A landed transactions table: rows by their loader's key, each loaded at a time."""

    rows: dict[int, dict[str, Any]] = field(default_factory=dict)

    def load(self, key: int, sr_no: str, loaded: str, **fields: Any) -> None:
        self.rows[key] = transaction(sr_no, loaded_date=loaded, row_key=str(key), **fields)

    def edit(self, key: int, loaded: str, **fields: Any) -> None:
        self.rows[key] = {**self.rows[key], "loaded_date": loaded, **fields}

    def read(self, since: str | None = None) -> pd.DataFrame:
        """Rows loaded at or after ``since``, by load time then key, as a reader gives them."""
        chosen = [
            (row["loaded_date"], key, row)
            for key, row in self.rows.items()
            if since is None or row["loaded_date"] >= since
        ]
        return transactions(*(row for _, _, row in sorted(chosen)))

    def key_scan(self) -> pd.DataFrame:
        return self.read().loc[:, [*KEY_COLUMNS, ROW_KEY]]


def _normalizer(office: Office, increment: pd.DataFrame) -> Normalizer:
    """A normalizer set up as the nightly job sets it up, from the source's key scan."""
    keys = source_keys([office.key_scan()])
    return default_normalizer(
        settings=SETTINGS,
        earlier_external_ids=earlier_external_ids(keys.unkeyed_repeats, [increment]),
        record_keys=keys.records,
    )


def _amounts(entries: pd.DataFrame) -> dict[str, Decimal]:
    return dict(zip(entries["external_id"], entries["amount"], strict=True))


def _two_rows_of_number_5() -> Office:
    """Number 5 held by a payment of 61.00 (key 1, loaded first) and a payment of 66.00
    (key 3, loaded later); number 7 by keys 2 and 4; number 9 by key 5 alone."""
    office = Office()
    office.load(1, "5", T1, transaction_type="Payment", payment_type="CASH", amount="61.0000")
    office.load(2, "7", T1, amount="80.0000")
    office.load(3, "5", T2, transaction_type="Payment", payment_type="CASH", amount="66.0000")
    office.load(4, "7", T2, amount="90.0000", patient_id="101")
    office.load(5, "9", T2, amount="120.0000")
    return office


def test_an_edited_row_that_shares_its_number_with_another_row_updates_its_entry() -> None:
    office = _two_rows_of_number_5()
    first = _normalizer(office, office.read()).transactions(office.read())
    assert _amounts(first.ledger_entries)["P1-5"] == Decimal("-61.00")

    office.edit(1, T3, amount="62.0000")
    increment = office.read(since=T3)
    result = _normalizer(office, increment).transactions(increment)

    assert _amounts(result.ledger_entries) == {"P1-5": Decimal("-62.00")}
    assert result.quarantine.empty


def test_the_other_row_of_the_number_stays_a_duplicate_when_it_is_edited_too() -> None:
    office = _two_rows_of_number_5()
    office.edit(3, T3, amount="67.0000")
    increment = office.read(since=T3)
    normalizer = _normalizer(office, increment)

    result = normalizer.transactions(increment)

    assert result.ledger_entries.empty
    assert result.quarantine["reason"].tolist() == [Reason.DUPLICATE_TRANSACTION]
    assert result.quarantine["detail"].tolist() == [
        HELD_TWICE.format("5") + " (row key '1'), which is kept"
    ]
    assert normalizer.counts.rows == normalizer.counts.ledger_entries + 1


def test_two_rows_holding_one_number_at_once_are_duplicates_in_whatever_order_they_come() -> None:
    office = _two_rows_of_number_5()
    office.edit(1, T3, amount="62.0000")  # the record now comes after its duplicate
    whole = office.read()
    normalizer = _normalizer(office, whole)

    result = normalizer.transactions(whole)

    assert _amounts(result.ledger_entries) == {
        "P1-5": Decimal("-62.00"),
        "P1-7": Decimal("80.00"),
        "P1-9": Decimal("120.00"),
    }
    duplicates = result.quarantine.set_index("source_id")
    assert set(duplicates.index) == {"5", "7"}
    assert set(duplicates["reason"]) == {Reason.DUPLICATE_TRANSACTION}
    assert duplicates.loc["5", "detail"] == HELD_TWICE.format("5") + " (row key '1'), which is kept"
    assert duplicates.loc["7", "detail"] == HELD_TWICE.format("7") + " (row key '2'), which is kept"
    counts = normalizer.counts
    assert counts.rows == counts.ledger_entries + sum(counts.quarantined.values()) == 5


def test_a_whole_source_normalize_agrees_with_the_incremental_state_after_edits() -> None:
    office = _two_rows_of_number_5()
    state = _amounts(_normalizer(office, office.read()).transactions(office.read()).ledger_entries)

    office.edit(1, T3, amount="62.0000")  # a record whose number another row holds
    office.edit(4, T3, amount="91.0000")  # a duplicate
    office.edit(5, T3, amount="130.0000")  # a number held once
    increment = office.read(since=T3)
    state |= _amounts(_normalizer(office, increment).transactions(increment).ledger_entries)

    whole = normalize(
        settings=SETTINGS,
        payment_types=payment_types(),
        patients=patients(),
        transactions=[office.read()],
        today=TODAY,
        record_keys=source_keys([office.key_scan()]).records,
    )
    assert state == _amounts(whole.ledger_entries)
    assert state == {"P1-5": Decimal("-62.00"), "P1-7": Decimal("80.00"), "P1-9": Decimal("130.00")}


def test_a_deletion_event_of_a_number_other_rows_still_hold_voids_nothing() -> None:
    office = _two_rows_of_number_5()
    event = transaction("5", loaded_date=T3, is_deleted="true")  # no row key: an event's
    increment = transactions(event)
    normalizer = _normalizer(office, increment)

    result = normalizer.transactions(increment)

    assert result.ledger_entries.empty
    assert result.quarantine["reason"].tolist() == [Reason.DUPLICATE_TRANSACTION]


def test_the_key_scan_orders_each_repeated_numbers_row_keys_with_the_records_first() -> None:
    scan = pd.DataFrame(
        [
            ("P1", "5", "10"),
            ("P1", "5", "9"),
            ("P1", "6", "b"),
            ("P1", "6", "11"),
            ("P1", "7", "1"),
            ("P1", "7", None),  # a row without a key: the number is not settled by key
            ("P1", "8", "4"),
            ("P1", "8", " 4 "),  # one key twice tells no row apart
            ("P1", "9", "3"),
        ],
        columns=[*KEY_COLUMNS, ROW_KEY],
        dtype=object,
    )

    keys = source_keys([scan])

    assert keys.repeated == {"P1-5": 2, "P1-6": 2, "P1-7": 2, "P1-8": 2}
    assert keys.held == {"P1-5": ("9", "10"), "P1-6": ("11", "b")}
    assert keys.records == {"P1-5": "9", "P1-6": "11"}
    assert keys.unkeyed_repeats == {"P1-7": 2, "P1-8": 2}
    assert sorted(["b", "10", "9", "009"], key=row_key_order) == ["009", "9", "10", "b"]


def test_without_row_keys_the_first_row_loaded_is_still_kept_and_later_ones_quarantined() -> None:
    office = _two_rows_of_number_5()
    for row in office.rows.values():
        row[ROW_KEY] = None
    whole = office.read()

    result = _normalizer(office, whole).transactions(whole)

    assert _amounts(result.ledger_entries)["P1-5"] == Decimal("-61.00")
    assert result.quarantine["detail"].tolist() == [
        "transaction_sr_no '5' of practice 'P1' was already seen in this run",
        "transaction_sr_no '7' of practice 'P1' was already seen in this run",
    ]
