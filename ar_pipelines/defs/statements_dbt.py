"""The dbt statement models as assets, one partition per practice.

A practice's run reads its own rows of ``normalized.ledger_entries`` (the source, mapped to
the normalizing asset) and builds every model in a schema of its own
(``statements_<practice>``), so practices never overwrite each other. dbt's data tests
become asset checks; unit tests are for CI, not for nightly runs.
"""

import json
import subprocess
import sys
from collections.abc import Iterator, Mapping
from pathlib import Path
from typing import Any

import dagster as dg
from dagster_dbt import (
    DagsterDbtTranslator,
    DagsterDbtTranslatorSettings,
    DbtCliResource,
    DbtProject,
    dbt_assets,
)

from ar_pipelines.defs.common import practice_of, retried_when_transient
from ar_pipelines.defs.practices import Practice
from ar_pipelines.defs.resources import Settings, WarehouseResource
from ar_pipelines.statements.local.dbt_args import PROJECT_DIR, dbt_environment

DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
# The dbt installed beside this interpreter, whatever the PATH.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")


def practice_schema(practice: Practice, prefix: str = "") -> str:
    """Where a practice's models are built (and where reconciliation reads them)."""
    return f"{prefix}statements_{practice.schema_suffix}"


def manifest_path() -> Path:
    """dbt's manifest for the project, parsed again when a project file is newer."""
    manifest = DBT_PROJECT.manifest_path
    newest = max(
        path.stat().st_mtime
        for path in PROJECT_DIR.rglob("*")
        if path.suffix in {".sql", ".yml"} and "target" not in path.parts
    )
    if not manifest.exists() or manifest.stat().st_mtime < newest:
        command = [
            str(DBT_EXECUTABLE),
            "parse",
            "--quiet",
            "--project-dir",
            str(PROJECT_DIR),
            "--profiles-dir",
            str(PROJECT_DIR),
            "--target-path",
            str(DBT_PROJECT.target_path),
        ]
        with dbt_environment({}):
            parsed = subprocess.run(command, capture_output=True, text=True, check=False)
        if parsed.returncode != 0:
            raise RuntimeError(f"dbt could not parse {PROJECT_DIR}: {parsed.stdout[-2000:]}")
    return manifest


def dbt_resource() -> DbtCliResource:
    return DbtCliResource(project_dir=DBT_PROJECT, dbt_executable=str(DBT_EXECUTABLE))


class Translator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "statements"


def dbt_statement_assets(
    partitions: dg.PartitionsDefinition, pool: str | None = None
) -> list[dg.AssetsDefinition]:
    @dbt_assets(
        pool=pool,
        manifest=manifest_path(),
        project=DBT_PROJECT,
        partitions_def=partitions,
        dagster_dbt_translator=Translator(
            settings=DagsterDbtTranslatorSettings(enable_asset_checks=True)
        ),
        exclude="resource_type:unit_test",
    )
    def statement_models(
        context: dg.AssetExecutionContext,
        dbt: DbtCliResource,
        warehouse: WarehouseResource,
        settings: Settings,
    ) -> Iterator[Any]:
        practice = practice_of(context, settings)
        with retried_when_transient(context), warehouse.open() as store:
            environment = store.dbt_env()
            variables = {
                **store.dbt_vars(),
                "practice_id": practice.id,
                "practice_schema": practice_schema(practice, store.schema_prefix),
            }
        arguments = [
            "build",
            "--vars",
            json.dumps(variables),
            "--exclude-resource-type",
            "unit_test",
        ]
        # A DuckDB file another process holds fails dbt at once: the step is tried again.
        with retried_when_transient(context), dbt_environment(environment):
            yield from dbt.cli(arguments, context=context).stream()

    return [statement_models]
