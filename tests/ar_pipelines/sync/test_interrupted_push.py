"""A push cut off half-way keeps what landed, and the next run converges: AR holds each
entry once with the latest values, and the push state says so."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from decimal import Decimal
from typing import Any

import httpx
import pandas as pd
import pytest

from ar_pipelines.client import ARClient
from ar_pipelines.sync import SyncIncompleteError, payload_hashes, records_frame
from ar_pipelines.sync.payloads import KINDS
from ar_pipelines.warehouse import Warehouse
from tests.ar_pipelines.sync.helpers import ar_amounts, dead_letters, push, push_customers, state
from tests.ar_pipelines.warehouse.frames import customer_row, customers, ledger, ledger_row
from tests.sandbox_server import RunningSandbox

SLICE = 5  # records per slice: one bulk request each


class BreaksAfter(httpx.HTTPTransport):
    """Real HTTP to the sandbox for the first ``healthy`` bulk requests; every later one
    fails with a dropped connection, the server having done the work (``after_work``)
    or not."""

    def __init__(self, healthy: int, *, after_work: bool) -> None:
        super().__init__()
        self.healthy = healthy
        self.after_work = after_work
        self.bulk_requests = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not request.url.path.endswith("/bulk"):
            return super().handle_request(request)
        self.bulk_requests += 1
        if self.bulk_requests <= self.healthy:
            return super().handle_request(request)
        if not self.after_work:
            raise httpx.ConnectError("connection refused (injected)", request=request)
        response = super().handle_request(request)
        response.read()
        response.close()
        raise httpx.ReadError("connection reset by peer (injected)", request=request)


@contextmanager
def client_over(
    transport: BreaksAfter, sandbox: RunningSandbox, company: dict[str, Any], **options: Any
) -> Iterator[ARClient]:
    """A live client of the company whose requests go through ``transport``."""
    with (
        httpx.Client(transport=transport, timeout=30.0) as http,
        ARClient(
            base_url=sandbox.base_url, api_key=company["live_key"], http_client=http, **options
        ) as client,
    ):
        yield client


@pytest.fixture
def breaking(
    sandbox: RunningSandbox, company: dict[str, Any], request: pytest.FixtureRequest
) -> Iterator[ARClient]:
    transport = BreaksAfter(1, after_work=request.param)
    with client_over(
        transport, sandbox, company, concurrency=1, max_retries=2, sleep=lambda seconds: None
    ) as client:
        yield client


def versioned(amounts: dict[str, str]) -> pd.DataFrame:
    return ledger(
        *(
            ledger_row(name, amount, customer_external_id=f"P1-C{1 + (int(name[1:]) - 1) // 4}")
            for name, amount in amounts.items()
        )
    )


FIRST = {f"E{i:02d}": f"{i}.00" for i in range(1, 13)}
LATEST = FIRST | {"E01": "101.00", "E07": "107.00", "E12": "112.00"}


@pytest.mark.parametrize(
    "breaking",
    [pytest.param(True, id="answer-lost"), pytest.param(False, id="never-arrived")],
    indirect=True,
)
def test_a_push_cut_off_half_way_converges_when_run_again(
    breaking: ARClient, ar: ARClient, warehouse: Warehouse
) -> None:
    patients = customers(*(customer_row(f"P1-C{n}") for n in (1, 2, 3)))
    push(ar, warehouse, "customers", patients)

    with pytest.raises(SyncIncompleteError) as stopped:
        push(breaking, warehouse, "ledger_entries", versioned(FIRST), slice_size=SLICE)

    counts = stopped.value.report.counts
    assert (counts.created, counts.unsent, counts.sent) == (SLICE, 12 - SLICE, 12)
    halfway = state(warehouse)["last_result"].value_counts().to_dict()
    assert halfway == {"created": SLICE, "unsent": 12 - SLICE}
    assert len(dead_letters(warehouse)) == 12 - SLICE

    # The next run reads changed values, for entries that landed, were lost and never left.
    report = push(ar, warehouse, "ledger_entries", versioned(LATEST))

    assert report.clean
    assert ar_amounts(ar) == {name: Decimal(amount) for name, amount in LATEST.items()}
    spec = KINDS["ledger_entries"]
    latest = records_frame(versioned(LATEST), spec)
    expected = dict(zip(latest["external_id"], payload_hashes(latest, spec), strict=True))
    remembered = state(warehouse)
    assert remembered["payload_hash"].to_dict() == expected
    assert set(remembered["last_result"]) <= {"created", "updated"}
    assert dead_letters(warehouse).empty
    again = push(ar, warehouse, "ledger_entries", versioned(LATEST))
    assert again.counts.sent == 0


def test_a_push_cut_off_keeps_the_records_it_never_sent_for_the_next_run(
    ar: ARClient, warehouse: Warehouse, sandbox: RunningSandbox, company: dict[str, Any]
) -> None:
    push_customers(ar, warehouse, "P1-C1")
    transport = BreaksAfter(0, after_work=False)
    with (
        client_over(transport, sandbox, company, max_retries=0) as down,
        pytest.raises(SyncIncompleteError),
    ):
        push(down, warehouse, "ledger_entries", versioned({"E01": "1.00", "E02": "2.00"}))

    # An incremental run that reads nothing new still sends them: they wait as dead letters.
    report = push(ar, warehouse, "ledger_entries", ledger())

    assert (report.counts.retried_from_dead_letter, report.counts.created) == (2, 2)
    assert ar_amounts(ar) == {"E01": Decimal("1.00"), "E02": Decimal("2.00")}
    assert dead_letters(warehouse).empty
