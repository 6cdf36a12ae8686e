"""The API key never appears in a repr, a message, a log line or an exception."""

from __future__ import annotations

import logging
import traceback
from typing import Any

import httpx
import pytest

from ar_pipelines.client import ApiError, ARClient, RetryPolicy
from ar_pipelines.local_sandbox import free_port
from tests.ar_pipelines.client import practice
from tests.ar_pipelines.client.faults import FailAfter, FailBefore, Refuse, ScriptedTransport
from tests.sandbox_server import RunningSandbox


def every_text_of(error: BaseException) -> str:
    return "\n".join(
        [str(error), repr(error), *traceback.format_exception(error), repr(vars(error))]
    )


def test_the_key_never_appears_in_logs_errors_or_reports(
    sandbox: RunningSandbox, company: dict[str, Any], caplog: pytest.LogCaptureFixture
) -> None:
    key = company["live_key"]
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included
    texts: list[str] = []
    transport = ScriptedTransport(
        Refuse(503),
        FailBefore(httpx.ConnectError),
        FailAfter(httpx.ReadError),
        Refuse(429),
        when=lambda request: request.url.path.endswith("/campaigns"),
    )
    http = httpx.Client(transport=transport, timeout=30)
    with ARClient(
        base_url=sandbox.base_url,
        api_key=key,
        http_client=http,
        retry_policy=RetryPolicy(max_retries=1, base=0.0, cap=0.0),
    ) as ar:
        texts += [repr(ar), str(ar), repr(ar._key), str(ar._key)]
        ar.customers.bulk_upsert(practice.customers(5))
        rows = practice.entries(5, 20)
        rows[3] = {**rows[3], "amount": "1.001"}
        report = ar.ledgers.bulk_upsert(rows)
        texts += [repr(report), str(report.summary())]
        for call in (
            lambda: ar.statements.get("00000000-0000-0000-0000-000000000000"),
            lambda: list(ar.campaigns.list()),  # 503 then a refused connection: gives up
            lambda: list(ar.campaigns.list()),  # reset after sending, then 429: gives up
        ):
            with pytest.raises(ApiError) as raised:
                call()
            texts.append(every_text_of(raised.value))
    http.close()
    with ARClient(base_url=sandbox.base_url, api_key=key + "x") as wrong:
        with pytest.raises(ApiError) as unauthorized:
            wrong.campaigns.get("c")
        texts.append(every_text_of(unauthorized.value))
    nowhere = f"http://127.0.0.1:{free_port()}"
    with ARClient(base_url=nowhere, api_key=key, max_retries=0) as down:
        with pytest.raises(ApiError) as refused:
            down.campaigns.get("c")
        texts.append(every_text_of(refused.value))

    assert len(report.rejected) == 1  # the run did go through isolation, retries and failures
    assert transport.steps == []
    assert len(caplog.records) > 10
    assert key not in caplog.text
    assert key[len("sk_live_") :] not in caplog.text
    for text in texts:
        assert key[len("sk_live_") :] not in text
    assert "sk_live_…" in repr(ar._key)
