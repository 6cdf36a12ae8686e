"""A run that reads only later rows of a ``transaction_sr_no`` (its first row was read in an
earlier run) quarantines them as duplicates, as a run reading every row would."""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np
import pandas as pd

from ar_pipelines.normalize import Normalizer
from ar_pipelines.normalize.present import earlier_external_ids, source_keys
from ar_pipelines.normalize.reasons import Reason
from ar_pipelines.normalize.seen import SeenKeys
from tests.ar_pipelines.normalize.rows import (
    default_normalizer,
    transaction,
    transactions,
)


def _keys(*pairs: tuple[str | None, str | None]) -> pd.DataFrame:
    return pd.DataFrame(pairs, columns=["practice_id", "transaction_sr_no"], dtype=object)


def _normalizer(earlier: list[str]) -> Normalizer:
    return default_normalizer(earlier_external_ids=earlier)


def test_a_row_of_an_id_read_in_an_earlier_run_is_quarantined_and_the_others_kept() -> None:
    normalizer = _normalizer(["P1-2"])

    first = normalizer.transactions(
        transactions(transaction("1"), transaction("2", amount="66.00"), transaction("3"))
    )
    second = normalizer.transactions(transactions(transaction("2", amount="67.00")))

    assert first.ledger_entries["external_id"].tolist() == ["P1-1", "P1-3"]
    assert second.ledger_entries.empty
    quarantine = pd.concat([first.quarantine, second.quarantine], ignore_index=True)
    assert quarantine["source_id"].tolist() == ["2", "2"]
    assert quarantine["reason"].tolist() == [Reason.DUPLICATE_TRANSACTION] * 2
    assert all("repeats a row read in an earlier run" in d for d in quarantine["detail"])
    counts = normalizer.counts
    assert counts.rows == 4
    assert counts.rows == counts.ledger_entries + sum(counts.quarantined.values())
    assert counts.quarantined == {Reason.DUPLICATE_TRANSACTION.value: 2}


def test_a_repeat_within_the_run_still_says_it_was_seen_in_this_run() -> None:
    normalizer = _normalizer(["P1-9"])

    result = normalizer.transactions(transactions(transaction("1"), transaction("1")))

    assert result.ledger_entries["external_id"].tolist() == ["P1-1"]
    assert result.quarantine["detail"].tolist() == [
        "transaction_sr_no '1' of practice 'P1' was already seen in this run"
    ]


def test_seen_keys_tell_ids_given_as_earlier_from_those_first_seen_in_the_run() -> None:
    seen = SeenKeys(["P1-1", "P1-1", "P1-2"])

    ids = np.array(["P1-1", "P1-3", "P1-3", "P1-2"], dtype=object)
    assert seen.add(ids).tolist() == [True, False, True, True]
    assert seen.earlier(ids).tolist() == [True, False, False, True]
    assert len(seen) == 3
    assert not SeenKeys().earlier(ids).any()


def test_the_key_scan_counts_ids_the_source_holds_more_than_once() -> None:
    keys = source_keys(
        [
            _keys(("P1", "1"), ("P1", " 2 "), (None, "3")),
            _keys(("P1", "2"), ("P1", "4"), ("P1", "2"), ("P1", None)),
        ]
    )

    assert keys.present == {"P1-1", "P1-2", "P1-4"}
    assert keys.repeated == {"P1-2": 3}
    assert keys.rows == 7
    assert source_keys([_keys(("P1", "1"), ("P1", "2"))]).repeated == {}


def test_ids_read_fewer_times_than_the_source_holds_them_were_read_earlier() -> None:
    repeated = {"P1-1": 2, "P1-2": 2, "P1-3": 3, "P1-4": 2}
    increment = [_keys(("P1", "1"), ("P1", "2"), ("P1", "5")), _keys(("P1", " 2"), ("P1", "3"))]

    assert earlier_external_ids(repeated, increment) == {"P1-1", "P1-3", "P1-4"}


class Unread:
    def __iter__(self) -> Iterator[pd.DataFrame]:
        raise AssertionError("the increment was read")


def test_without_repeated_ids_the_increment_is_not_read() -> None:
    assert earlier_external_ids({}, Unread()) == set()
