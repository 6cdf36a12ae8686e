"""The request body size limit: a body over it gets 413 before it is parsed, and the
server never holds more of it than the limit."""

from __future__ import annotations

import json
import socket
from collections.abc import Iterable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from ar_pipelines.local_sandbox import bootstrap_company, sandbox_process
from ar_sandbox.cli import main
from ar_sandbox.schemas.accounts import MAX_INVOICES
from ar_sandbox.schemas.customers import MAX_CUSTOMERS, MAX_EXTERNAL_ID
from ar_sandbox.schemas.ledgers import MAX_LEDGER_ENTRIES
from ar_sandbox.schemas.sync import SyncRequest
from ar_sandbox.settings import DEFAULT_MAX_BODY_BYTES, Settings
from bench.sandbox_process import PeakRss
from tests.ar_sandbox.helpers import customer, entry, upsert_counts
from tests.conftest import data, error
from tests.sandbox_server import RunningSandbox, running_sandbox

LIMIT = 64 * 1024
CHUNK = 8 * 1024
MIB = 1024 * 1024
SENT_AS = ["with-content-length", "chunked"]


@pytest.fixture(scope="module")
def limited(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RunningSandbox]:
    path = tmp_path_factory.mktemp("body_limit") / "ar.db"
    with running_sandbox(Settings(database_url=f"sqlite:///{path}", max_body_bytes=LIMIT)) as sb:
        yield sb


@pytest.fixture
def client(limited: RunningSandbox) -> Iterator[httpx.Client]:
    with limited.client(limited.bootstrap()["live_key"]) as client:
        yield client


def customers_body(size: int) -> bytes:
    """A valid bulk upsert of one customer, ``CUST-1``, exactly ``size`` bytes long."""

    def body(padding: int) -> bytes:
        record = customer("CUST-1", custom_fields={"note": "x" * padding})
        return json.dumps({"customers": [record]}).encode()

    return body(size - len(body(0)))


def chunks(body: bytes, size: int = CHUNK) -> Iterator[bytes]:
    for start in range(0, len(body), size):
        yield body[start : start + size]


def post(client: httpx.Client, path: str, body: bytes, sent_as: str) -> httpx.Response:
    """POST ``body`` with a ``Content-Length``, or in chunks without one."""
    content: bytes | Iterable[bytes] = body if sent_as == "with-content-length" else chunks(body)
    response = client.post(path, content=content, headers={"Content-Type": "application/json"})
    declared = "content-length" in response.request.headers
    assert declared == (sent_as == "with-content-length")
    return response


def customers_stored(client: httpx.Client) -> int:
    total: int = data(client.get("/customers"))["total"]
    return total


@pytest.mark.parametrize("sent_as", SENT_AS)
def test_a_body_over_the_limit_is_refused_with_413_and_the_error_envelope(
    client: httpx.Client, sent_as: str
) -> None:
    response = post(client, "/customers/bulk", customers_body(LIMIT + 1), sent_as)
    body = error(response, 413)
    assert body["errors"] == []
    assert str(LIMIT) in body["message"]
    assert response.headers["content-type"] == "application/json"
    assert response.headers["x-request-id"]
    assert customers_stored(client) == 0  # nothing of it was processed


@pytest.mark.parametrize("sent_as", SENT_AS)
def test_a_body_at_the_limit_is_served_normally(client: httpx.Client, sent_as: str) -> None:
    response = post(client, "/customers/bulk", customers_body(LIMIT), sent_as)
    assert data(response) == upsert_counts(total=1, created=1)
    assert customers_stored(client) == 1


def test_the_connection_serves_the_next_request_after_a_refused_body(
    client: httpx.Client,
) -> None:
    error(post(client, "/customers/bulk", customers_body(4 * LIMIT), "chunked"), 413)
    assert data(post(client, "/customers/bulk", customers_body(LIMIT // 2), "chunked"))["created"]


def test_a_declared_length_over_the_limit_is_refused_before_any_of_the_body_is_sent(
    limited: RunningSandbox, client: httpx.Client
) -> None:
    host, port = limited.base_url.removeprefix("http://").split(":")
    head = (
        "POST /api/v1/external/customers/bulk HTTP/1.1\r\n"
        f"Host: {host}\r\n"
        f"X-Api-Key: {client.headers['X-Api-Key']}\r\n"
        "Content-Type: application/json\r\n"
        f"Content-Length: {LIMIT + 1}\r\n"
        "\r\n"
    )
    # Only the head goes out: a server that waited for the body would never answer,
    # and the read below would end in a socket timeout instead.
    with socket.create_connection((host, int(port)), timeout=30) as connection:
        connection.sendall(head.encode())
        status_line = connection.makefile("rb").readline()
    assert status_line.split()[1] == b"413"


def _sync_record_at_every_maximum(i: int) -> dict[str, Any]:
    text = {"description": "D" * 10_000}
    return {
        "customer": customer(
            f"C{i:0>{MAX_EXTERNAL_ID - 1}}",
            email=f"{'e' * 60}{i:04}@{'d' * 63}.{'d' * 63}.{'d' * 50}.com",
            phone="+1" + "5" * 14,
            firstName="F" * 255,
            lastName="L" * 255,
            companyName="K" * 255,
            tags=[f"{t:0>100}" for t in range(50)],
            communication_preferences={"email": True, "sms": False},
        ),
        "invoice": {
            "external_id": f"I{i:0>254}",
            "customer_external_id": f"C{i:0>{MAX_EXTERNAL_ID - 1}}",
            "invoice_number": "N" * 255,
            "amount": 9_999_999_999.99,
            "currency": "USD",
            "issue_date": "2026-01-01",
            "due_date": "2026-01-31",
            **text,
        },
        "entry": entry(
            f"L{i:0>99}",
            "C" * 255,
            "2026-05-03",
            "insurance_payment",
            -9_999_999_999.99,
            amount_paid=-9_999_999_999.99,
            estimated_insurance=-9_999_999_999.99,
            payment_link_id="P" * 100,
            procedure_code="X" * 50,
            **text,
        ),
    }


def test_the_largest_request_the_schemas_accept_fits_under_the_default_limit() -> None:
    # POST /sync at every list's and every field's maximum, in ASCII; only
    # custom_fields, which has no bound at all, is left out.
    records = [_sync_record_at_every_maximum(i) for i in range(MAX_LEDGER_ENTRIES)]
    body = json.dumps(
        {
            "customers": [r["customer"] for r in records[:MAX_CUSTOMERS]],
            "invoices": [r["invoice"] for r in records[:MAX_INVOICES]],
            "ledger_entries": [r["entry"] for r in records],
        }
    )
    SyncRequest.model_validate_json(body)  # every record is valid as it stands
    assert len(body.encode()) < DEFAULT_MAX_BODY_BYTES


def _ledger_push_of(size: int) -> bytes:
    """A well-formed ledger push of about ``size`` bytes, in many small entries: parsed,
    it would take several times its size in memory."""
    one = json.dumps(entry("E-{:07}", "CUST-1", "2026-05-03", "charge", 1))
    count = size // len(one) + 1
    entries = ",".join(one.replace("{:07}", f"{i:07}") for i in range(count))
    return f'{{"ledger_entries": [{entries}]}}'.encode()


@pytest.mark.parametrize("sent_as", SENT_AS)
def test_a_20_mb_body_is_refused_while_the_server_grows_by_less_than_50_mb(
    tmp_path: Path, sent_as: str
) -> None:
    body = _ledger_push_of(20 * 1000 * 1000)
    assert len(body) > DEFAULT_MAX_BODY_BYTES
    database = f"sqlite:///{tmp_path}/rss.db"
    key = bootstrap_company(database)["live_key"]
    with (
        sandbox_process(database) as server,  # the default limit, in a process of its own
        httpx.Client(base_url=server.api, headers={"X-Api-Key": key}, timeout=60) as client,
        PeakRss(server.pid) as rss,
    ):
        data(post(client, "/customers/bulk", customers_body(1000), sent_as))  # warm up
        rss.reset()
        before = rss.peak_bytes()
        response = post(client, "/ledgers/bulk", body, sent_as)
        grown = rss.peak_bytes() - before
    error(response, 413)
    assert grown < 50 * MIB, f"the server grew by {grown / MIB:.0f} MiB"


def test_the_limit_is_read_from_the_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    assert Settings().max_body_bytes == DEFAULT_MAX_BODY_BYTES
    monkeypatch.setenv("AR_SANDBOX_MAX_BODY_BYTES", "1000")
    assert Settings.from_env().max_body_bytes == 1000
    assert Settings.from_env(max_body_bytes=2000).max_body_bytes == 2000


@pytest.mark.parametrize("size", [0, -1])
def test_a_limit_below_one_byte_is_refused(size: int, capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(ValueError, match="at least 1 byte"):
        Settings(max_body_bytes=size)
    assert main(["serve", "--max-body-bytes", str(size)]) == 2
    assert "at least 1 byte" in capsys.readouterr().err
