"""The set of transactions seen in a run tells a repeat from a first occurrence, however
many batches came before."""

from __future__ import annotations

import numpy as np
from hypothesis import given
from hypothesis import strategies as st

from ar_pipelines.normalize.seen import SeenKeys


def _ids(*external_ids: str) -> np.ndarray:
    return np.array(external_ids, dtype=object)


def test_the_first_occurrence_in_a_batch_is_new_and_its_repeats_are_not() -> None:
    seen = SeenKeys()

    assert seen.add(_ids("P1-1", "P1-2", "P1-1", "P1-1")).tolist() == [False, False, True, True]
    assert len(seen) == 2


def test_an_id_of_any_earlier_batch_is_a_repeat_after_many_batches_merged() -> None:
    seen = SeenKeys()
    batches = [_ids(*(f"P{b % 3}-{b}-{n}" for n in range(200))) for b in range(40)]
    for batch in batches:
        assert not seen.add(batch).any()

    again = np.concatenate([batch[::37] for batch in batches])
    assert seen.add(again).all()
    assert "P0-0-0" in seen
    assert "P0-0-200" not in seen
    assert len(seen) == 40 * 200


@given(st.lists(st.lists(st.sampled_from([f"P1-{n}" for n in range(30)]), max_size=12)))
def test_repeats_are_those_a_plain_set_would_report(batches: list[list[str]]) -> None:
    seen, model = SeenKeys(), set()
    for batch in batches:
        expected = []
        for external_id in batch:
            expected.append(external_id in model)
            model.add(external_id)

        assert seen.add(_ids(*batch)).tolist() == expected
    assert len(seen) == len(model)
    assert seen.contains(np.array([hash(i) for i in model], dtype=np.int64).view(np.uint64)).all()
