"""A small generated practice source, a company per practice in the sandbox, and the
code location built on them, run in-process on an ephemeral Dagster instance."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import dagster as dg
import pytest
from sqlalchemy import text

from ar_demo.generate import generate
from ar_pipelines.cli.demo import practices_file
from ar_pipelines.defs import build_definitions
from ar_pipelines.defs.practices import PracticesConfig, load_practices
from tests.sandbox_server import RunningSandbox

PRACTICES = ("P001", "P002")


@dataclass
class Pipeline:
    """The code location over one source, sandbox and warehouse; ``run`` materializes
    every asset of one practice's partition, as the nightly job (or ``job_name``) does."""

    root: Path
    source_url: str
    warehouse_url: str
    sandbox: RunningSandbox
    companies: dict[str, dict[str, Any]]
    instance: dg.DagsterInstance
    resources: dict[str, object] = field(default_factory=dict)

    @property
    def config(self) -> PracticesConfig:
        return load_practices(self.root / "practices.toml")

    @property
    def reports(self) -> Path:
        return self.root / "reports"

    def definitions(self, **resources: object) -> dg.Definitions:
        return build_definitions(self.config, {**self.resources, **resources})

    def run(
        self,
        practice: str = "P001",
        *,
        run_config: dict[str, Any] | None = None,
        raise_on_error: bool = True,
        job_name: str = "nightly_sync",
        **resources: object,
    ) -> dg.ExecuteInProcessResult:
        job = self.definitions(**resources).resolve_job_def(job_name)
        return job.execute_in_process(
            partition_key=practice,
            instance=self.instance,
            run_config=run_config,
            raise_on_error=raise_on_error,
        )


def materialized(result: dg.ExecuteInProcessResult, asset: str) -> dict[str, Any]:
    """The metadata values of ``asset`` (``"ar/ledger_entries"``) in a run."""
    for event in result.get_asset_materialization_events():
        materialization = event.event_specific_data.materialization  # type: ignore[union-attr]
        if "/".join(materialization.asset_key.path) == asset:
            return {key: value.value for key, value in materialization.metadata.items()}
    raise AssertionError(f"{asset} was not materialized")


def check_passed(result: dg.ExecuteInProcessResult, check: str) -> dict[str, bool]:
    """Per asset, whether ``check`` passed in a run."""
    return {
        "/".join(e.asset_key.path): e.passed
        for e in result.get_asset_check_evaluations()
        if e.check_name == check
    }


def change_a_statement_in_ar(pipeline: Pipeline, practice: str) -> str:
    """Adds a dollar to one of the practice's statements behind the pipeline's back;
    returns its external id."""
    company = pipeline.companies[practice]["company_id"]
    with pipeline.sandbox.database.engine.begin() as connection:
        statement = connection.execute(
            text(
                "select id, external_id from invoices where company_id = :company"
                " and billing_type = 'statement' and amount > 0 order by external_id limit 1"
            ),
            {"company": company},
        ).one()
        connection.execute(
            text("update invoices set amount = amount + 1 where id = :id"), {"id": statement.id}
        )
    return str(statement.external_id)


def write_practices(path: Path, source_url: str) -> None:
    """The demo's practices file, with a quarantine threshold of 20%."""
    path.write_text(practices_file(source_url, PRACTICES, defaults=["quarantine_threshold = 0.2"]))


@contextmanager
def built_pipeline(
    root: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    """The generated source, a company per practice and the environment the code location
    reads, under ``root``; the instance is dropped afterwards."""
    source_url = f"sqlite:///{root / 'source.db'}"
    generate(source_url, practices=2, patients=30, months=6, seed=11, defect_rate=0.03)
    write_practices(root / "practices.toml", source_url)
    companies = {p: sandbox.bootstrap(f"Practice {p}") for p in PRACTICES}
    warehouse_url = f"duckdb:///{root / 'warehouse.duckdb'}"
    monkeypatch.setenv("AR_BASE_URL", sandbox.base_url)
    monkeypatch.setenv("AR_RETRY_SECONDS", "0")
    monkeypatch.setenv("AR_PRACTICES_FILE", str(root / "practices.toml"))
    monkeypatch.setenv("AR_WAREHOUSE_URL", warehouse_url)
    monkeypatch.setenv("AR_REPORTS_DIR", str(root / "reports"))
    for practice, company in companies.items():
        monkeypatch.setenv(f"AR_API_KEY_{practice}", company["live_key"])
        monkeypatch.setenv(f"AR_SA_CAMPAIGN_{practice}", company["sa_campaign_id"])
    with dg.DagsterInstance.ephemeral() as instance:
        yield Pipeline(root, source_url, warehouse_url, sandbox, companies, instance)


@pytest.fixture
def pipeline(
    tmp_path: Path, sandbox: RunningSandbox, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Pipeline]:
    """A pipeline of the test's own."""
    with built_pipeline(tmp_path, sandbox, monkeypatch) as built:
        yield built


@pytest.fixture(scope="module")
def shared_pipeline(
    tmp_path_factory: pytest.TempPathFactory, sandbox: RunningSandbox
) -> Iterator[Pipeline]:
    """One pipeline for a whole module, whose tests assert on the runs it makes in turn
    (each a module-scoped fixture of that module)."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        root = tmp_path_factory.mktemp("shared_pipeline")
        with built_pipeline(root, sandbox, monkeypatch) as built:
            yield built
