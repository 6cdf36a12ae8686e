"""The dbt statement models as assets, one partition per practice.

A practice's run reads its own rows of ``normalized.ledger_entries`` (the source, mapped to
the normalizing asset) and builds every model in a schema of its own
(``statements_<practice>``), so practices never overwrite each other. The build is
incremental: it computes again only the customers whose ledger entries changed since the
last build; the run config ``dbt_full_refresh: true`` computes every customer. dbt's data
tests become asset checks; unit tests are for CI, not for nightly runs. The project, its
manifest, and each run's arguments and environment come from ``ar_pipelines.statements.dbt``.
"""

import sys
from collections.abc import Iterator, Mapping, Sequence
from functools import cached_property
from importlib.metadata import version
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
from packaging.version import Version

from ar_pipelines.defs.common import practice_of, retried_when_transient
from ar_pipelines.defs.resources import Settings, WarehouseResource
from ar_pipelines.statements.dbt import (
    PROJECT_DIR,
    dbt_environment,
    practice_build,
    project_manifest,
)

DBT_PROJECT = DbtProject(project_dir=PROJECT_DIR, profiles_dir=PROJECT_DIR)
# The dbt installed beside this interpreter, whatever the PATH.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")


class DbtCli(DbtCliResource):
    """dbt's command line beside this interpreter. Its version is the installed
    dbt-core's: dagster-dbt would otherwise start ``dbt --version``, seconds of
    importing dbt, in every step that runs the models."""

    @cached_property
    def _cli_version(self) -> Version:
        return Version(version("dbt-core"))

    def _initialize_dbt_core_adapter(self, args: Sequence[str]) -> Any:
        """No dbt adapter in the step's process. dagster-dbt builds one (loading the
        project, the profile and dbt's macros here, about two seconds before dbt itself
        starts) only to fetch row counts and column metadata, which these assets never
        ask for."""
        return None


def dbt_resource() -> DbtCliResource:
    # The resource's own __init__ takes a DbtProject; the typed field is its path.
    project: Any = DBT_PROJECT
    return DbtCli(project_dir=project, dbt_executable=str(DBT_EXECUTABLE))


class StatementModelsConfig(dg.Config):
    """Run config of the models' step. The build is incremental (the customers whose
    ledger entries changed since the last build); ``dbt_full_refresh`` computes every
    customer again, as dbt's ``--full-refresh`` does."""

    dbt_full_refresh: bool = False


class Translator(DagsterDbtTranslator):
    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "statements"


def dbt_statement_assets(
    partitions: dg.PartitionsDefinition, pool: str | None = None
) -> list[dg.AssetsDefinition]:
    @dbt_assets(
        pool=pool,
        manifest=project_manifest(),
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
        config: StatementModelsConfig,
    ) -> Iterator[Any]:
        practice = practice_of(context, settings)
        with retried_when_transient(context), warehouse.open() as store:
            build = practice_build(store, practice, full_refresh=config.dbt_full_refresh)
        # A DuckDB file another process holds fails dbt at once: the step is tried again.
        with retried_when_transient(context), dbt_environment(build.environment):
            invocation = dbt.cli(build.arguments, context=context)
            yield from invocation.stream()
        build.keep_parse(invocation.target_path)

    return [statement_models]
