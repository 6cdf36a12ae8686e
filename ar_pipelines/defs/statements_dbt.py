"""The dbt statement models as assets, one partition per practice.

A practice's run reads its own rows of ``normalized.ledger_entries`` (the source, mapped to
the normalizing asset) and builds every model in a schema of its own
(``statements_<practice>``), so practices never overwrite each other. The build is
incremental: it computes again only the customers whose ledger entries changed since the
last build; the run config ``dbt_full_refresh: true`` computes every customer. dbt's data
tests become asset checks, partitioned like the models, so each practice's checks have a
status of their own; unit tests are for CI, not for nightly runs. Each run's arguments
and environment come from ``ar_pipelines.statements.dbt``.

How the project appears in Dagster (``Translator``): every model under the key prefix
``local`` (``local/statements``, ``local/stg_ledger_entries``, ...), beside the pipeline's
``raw/``, ``normalized/`` and ``ar/`` assets; each model described by its yml
``description`` and each check by its test's (or by a sentence made from the test); the
kinds ``dbt`` and the warehouse's.

The assets are defined from dbt's manifest, which dagster-dbt prepares (``dbt parse``
into ``dbt_project/target``, no warehouse needed) ahead of loading: ``make install``
(again whenever a file of the project changes) and a deployment's image build run
``dagster-dbt project prepare-and-package --file ar_pipelines/defs/statements_dbt.py``.
Under ``dagster dev`` the code location prepares it as it loads, when it is missing or
older than a file of the project. Loading anywhere else without one is an error that
names the command (docs/decisions.md, "The code location").
"""

import re
import sys
import warnings
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
from dagster_dbt.dbt_project import DagsterDbtProjectPreparer
from dagster_shared.record import replace
from packaging.version import Version

from ar_pipelines.defs.common import (
    NORMALIZED_LEDGER,
    partitioned_checks,
    practice_of,
    retried_when_transient,
)
from ar_pipelines.defs.resources import Settings, WarehouseResource, warehouse_kind
from ar_pipelines.statements.dbt import (
    PROJECT_DIR,
    dbt_environment,
    practice_build,
    project_files,
)

# The dbt installed beside this interpreter, whatever the PATH.
DBT_EXECUTABLE = Path(sys.executable).with_name("dbt")
PREPARE_COMMAND = (
    "dagster-dbt project prepare-and-package --file ar_pipelines/defs/statements_dbt.py"
)
# Every model's key starts with this: the statements computed here, not AR's (ar/...).
KEY_PREFIX = "local"
# The project's sources, as the assets that write them.
SOURCE_ASSETS = {("normalized", "ledger_entries"): NORMALIZED_LEDGER}


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


class Preparer(DagsterDbtProjectPreparer):
    """dagster-dbt's preparation of the project (``dbt parse`` writing the manifest into
    its ``target`` directory, one process at a time), with the dbt beside this
    interpreter, whatever the PATH. Under ``dagster dev`` it prepares only a manifest that
    is missing or older than a file of the project, not at every load: every step of a
    run loads the code location again."""

    def prepare_if_dev(self, project: DbtProject) -> None:
        if self.using_dagster_dev() and not manifest_is_current(project):
            super().prepare_if_dev(project)

    def _prepare_manifest(self, project: DbtProject) -> None:
        # The resource's own __init__ takes a DbtProject; the typed field is its path.
        as_dir: Any = project
        cli = DbtCli(project_dir=as_dir, dbt_executable=str(DBT_EXECUTABLE))
        cli.cli(self._prepare_project_cli_args, target_path=project.target_path).wait()
        self._invalidate_seeds_in_partial_parse(project)


def dbt_project(project_dir: Path = PROJECT_DIR) -> DbtProject:
    """The dbt project at ``project_dir``, its profiles beside it, prepared by ``Preparer``."""
    project = DbtProject(project_dir=project_dir, profiles_dir=project_dir)
    prepared: DbtProject = replace(project, preparer=Preparer())
    return prepared


def manifest_is_current(project: DbtProject) -> bool:
    """Whether the project's manifest exists and is as new as every file of the project."""
    manifest = project.manifest_path
    if not manifest.exists():
        return False
    written = manifest.stat().st_mtime
    return all(path.stat().st_mtime <= written for path in project_files(project.project_dir))


class ManifestNotPreparedError(dg.DagsterInvalidDefinitionError):
    """The dbt project's manifest is missing: the assets cannot be defined."""


class StaleManifestWarning(UserWarning):
    """A file of the dbt project is newer than its manifest."""


def prepared_manifest(project: DbtProject) -> Path:
    """The project's prepared manifest. Missing, it is an error that names the command
    that prepares it; older than a file of the project, a warning, and the assets are
    defined from it as it is (dbt itself builds the project as it is now)."""
    if not project.manifest_path.exists():
        raise ManifestNotPreparedError(
            f"dbt's manifest {project.manifest_path} is missing: prepare it with "
            f"`{PREPARE_COMMAND}` from the repository's root (`make install` does)"
        )
    if not manifest_is_current(project):
        warnings.warn(
            f"dbt's manifest {project.manifest_path} is older than a file of the project: "
            f"prepare it again with `{PREPARE_COMMAND}` (`make` does)",
            StaleManifestWarning,
            stacklevel=2,
        )
    return project.manifest_path


DBT_PROJECT = dbt_project()
DBT_PROJECT.prepare_if_dev()


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
    """The dbt project's models and tests as Dagster shows them. ``partitions``: the
    models' partitions, given to their checks too; ``kind``: the warehouse's kind, by
    default the environment's (``warehouse_kind``)."""

    def __init__(self, partitions: dg.PartitionsDefinition, kind: str | None = None) -> None:
        super().__init__(DagsterDbtTranslatorSettings(enable_asset_checks=True))
        self.partitions = partitions
        self.kind = kind or warehouse_kind()

    def get_asset_key(self, dbt_resource_props: Mapping[str, Any]) -> dg.AssetKey:
        if dbt_resource_props["resource_type"] == "source":
            written_by = (dbt_resource_props["source_name"], dbt_resource_props["name"])
            if written_by in SOURCE_ASSETS:
                return SOURCE_ASSETS[written_by]
            return super().get_asset_key(dbt_resource_props)
        return super().get_asset_key(dbt_resource_props).with_prefix(KEY_PREFIX)

    def get_description(self, dbt_resource_props: Mapping[str, Any]) -> str:
        """The yml's ``description`` alone, on one line, without the compiled SQL that
        dagster-dbt's own description ends with."""
        written = " ".join(str(dbt_resource_props.get("description") or "").split())
        return (
            written
            or f"The dbt {dbt_resource_props['resource_type']} {dbt_resource_props['name']}."
        )

    def get_group_name(self, dbt_resource_props: Mapping[str, Any]) -> str | None:
        return "statements"

    def get_asset_spec(
        self, manifest: Mapping[str, Any], unique_id: str, project: DbtProject | None
    ) -> dg.AssetSpec:
        spec = super().get_asset_spec(manifest, unique_id, project)
        return spec.replace_attributes(kinds={"dbt", self.kind})

    def get_asset_check_spec(
        self,
        asset_spec: dg.AssetSpec,
        manifest: Mapping[str, Any],
        unique_id: str,
        project: DbtProject | None,
    ) -> dg.AssetCheckSpec | None:
        spec = super().get_asset_check_spec(asset_spec, manifest, unique_id, project)
        if spec is None:
            return None
        described = dg.AssetCheckSpec(
            spec.name,
            asset=spec.asset_key,
            description=spec.description
            or check_description(self.get_resource_props(manifest, unique_id)),
            additional_deps=spec.additional_deps,
            blocking=spec.blocking,
            metadata=spec.metadata,
        )
        [partitioned] = partitioned_checks([described], self.partitions)
        return partitioned


_REF = re.compile(r"""ref\(\s*['"]([^'"]+)['"]\s*\)""")


def check_description(test: Mapping[str, Any]) -> str:
    """A dbt data test's description: its yml ``description`` when it has one, else a
    sentence made from the test and its arguments (``not_null`` on ``amount``: "amount is
    never null.")."""
    written = " ".join(str(test.get("description") or "").split())
    if written:
        return written
    metadata = test.get("test_metadata") or {}
    name = str(metadata.get("name") or test["name"])
    arguments: Mapping[str, Any] = metadata.get("kwargs") or {}
    column = test.get("column_name") or arguments.get("column_name")
    if name == "not_null":
        return f"{column} is never null."
    if name == "unique":
        return f"{column} is unique: no two rows share one."
    if name == "accepted_values":
        return f"{column} is one of {', '.join(map(str, arguments.get('values', [])))}."
    if name == "relationships":
        found = _REF.search(str(arguments.get("to", "")))
        model = found.group(1) if found else str(arguments.get("to"))
        return f"Every {column} is the {arguments.get('field')} of a row of {model}."
    if name == "unique_combination_of_columns":
        columns = ", ".join(arguments.get("combination_of_columns", []))
        return f"No two rows share a ({columns})."
    on = f" on {column}" if column else ""
    return f"The dbt test {name}{on} passes."


def dbt_statement_assets(
    partitions: dg.PartitionsDefinition, pool: str | None = None
) -> list[dg.AssetsDefinition]:
    @dbt_assets(
        pool=pool,
        manifest=prepared_manifest(DBT_PROJECT),
        project=DBT_PROJECT,
        partitions_def=partitions,
        dagster_dbt_translator=Translator(partitions),
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
