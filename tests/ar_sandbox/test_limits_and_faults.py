"""The per-key rate limit and seeded fault injection, both off unless configured."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import httpx
import pytest

from ar_sandbox.settings import FaultSettings, Settings
from tests.ar_sandbox.helpers import customer
from tests.conftest import data, error
from tests.sandbox_server import running_sandbox


def test_a_key_over_its_budget_gets_429_with_retry_after(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/rl.db", rate_limit_per_second=0.5, rate_limit_burst=3
    )
    with running_sandbox(settings) as sandbox:
        first, second = sandbox.bootstrap(), sandbox.bootstrap()
        with sandbox.client(first["live_key"]) as client:
            statuses = [client.get("/campaigns").status_code for _ in range(4)]
            assert statuses == [200, 200, 200, 429]
            limited = client.get("/campaigns")
            error(limited, 429)
            assert int(limited.headers["Retry-After"]) >= 1
        with sandbox.client(second["live_key"]) as other:  # the budget is per key
            data(other.get("/campaigns"))


def test_without_configuration_there_is_no_rate_limit(live: httpx.Client) -> None:
    assert {live.get("/campaigns").status_code for _ in range(30)} == {200}


def test_fault_settings_parse_from_text() -> None:
    faults = FaultSettings.parse("500=0.1, 503=0.05,429=0.05,slow=0.02,slow_seconds=0.5,seed=9")
    assert (
        faults.error_500,
        faults.error_503,
        faults.error_429,
        faults.slow,
        faults.slow_seconds,
        faults.seed,
    ) == (
        0.1,
        0.05,
        0.05,
        0.02,
        0.5,
        9,
    )
    assert faults.enabled
    assert not FaultSettings().enabled


@pytest.mark.parametrize("text", ["500", "teapot=0.1", "500=0.7,503=0.7", "503=-0.1"])
def test_nonsense_fault_settings_are_refused(text: str) -> None:
    with pytest.raises(ValueError, match=r"fault|unknown|KEY=VALUE"):
        FaultSettings.parse(text)


def _fault_run(tmp_path: Path, name: str) -> tuple[list[int], int]:
    faults = FaultSettings(error_500=0.2, error_503=0.2, error_429=0.2, seed=42)
    settings = Settings(database_url=f"sqlite:///{tmp_path}/{name}.db", faults=faults)
    with running_sandbox(settings) as sandbox:
        company = sandbox.bootstrap()
        with sandbox.client(company["live_key"]) as client:
            statuses = [
                client.post("/customers/bulk", json={"customers": [customer(f"C-{i}")]}).status_code
                for i in range(60)
            ]
        with sandbox.database.session() as session:
            from sqlalchemy import func, select

            from ar_sandbox.models import Customer

            stored = session.scalar(select(func.count()).select_from(Customer)) or 0
    return statuses, stored


def test_injected_faults_are_seeded_and_500s_come_after_the_work_landed(tmp_path: Path) -> None:
    statuses, stored = _fault_run(tmp_path, "a")
    again, _ = _fault_run(tmp_path, "b")
    assert statuses == again  # the same seed gives the same faults
    counts = Counter(statuses)
    assert set(counts) == {200, 429, 500, 503}
    assert counts[200] < 60
    # 503 and 429 refuse before processing; 500 answers after the commit
    assert stored == counts[200] + counts[500]


def test_faults_never_touch_the_openapi_document(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/f.db", faults=FaultSettings(error_503=1.0)
    )
    with running_sandbox(settings) as sandbox:
        assert httpx.get(f"{sandbox.base_url}/openapi.json").status_code == 200
        company = sandbox.bootstrap()
        with sandbox.client(company["live_key"]) as client:
            error(client.get("/campaigns"), 503)


def test_every_answer_carries_a_request_id_and_keeps_the_callers_own(tmp_path: Path) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/id.db", faults=FaultSettings(error_503=1.0)
    )
    with running_sandbox(settings) as sandbox:
        company = sandbox.bootstrap()
        with sandbox.client(company["live_key"]) as client:
            injected = client.get("/campaigns")
            error(injected, 503)
            assert injected.headers["X-Request-Id"].startswith("req_")
            kept = client.get("/campaigns", headers={"X-Request-Id": "req_from_the_caller"})
            assert kept.headers["X-Request-Id"] == "req_from_the_caller"
            unusable = client.get("/campaigns", headers={"X-Request-Id": "x" * 500})
            assert unusable.headers["X-Request-Id"].startswith("req_")
        fresh = {httpx.get(f"{sandbox.base_url}/healthz").headers["X-Request-Id"] for _ in range(3)}
        assert len(fresh) == 3
