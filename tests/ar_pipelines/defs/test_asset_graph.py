"""The asset graph as someone new to it meets it in the UI: keys that say which stage an
asset belongs to, descriptions in plain words, every check explained and kept per
practice, and kinds on every asset."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path
from typing import Any

import dagster as dg
import pytest

from ar_pipelines.cli.demo import practices_file
from ar_pipelines.defs import build_definitions
from ar_pipelines.defs.practices import load_practices
from ar_pipelines.defs.resources import warehouse_kind
from ar_pipelines.defs.statements_dbt import DBT_PROJECT, check_description

UNIQUE_ID = "dagster_dbt/unique_id"  # dagster-dbt's metadata of a dbt node's asset
# What a description must not hold: Jinja, or a line that starts an SQL statement.
SQL = re.compile(r"\{\{|\{%|\{#|^\s*(select|with|from)\b", re.IGNORECASE | re.MULTILINE)


@pytest.fixture(scope="module")
def graph(tmp_path_factory: pytest.TempPathFactory) -> Any:
    root = tmp_path_factory.mktemp("graph")
    path = root / "practices.toml"
    path.write_text(practices_file(f"sqlite:///{root / 'source.db'}", ["P001", "P002"]))
    with pytest.MonkeyPatch.context() as patch:
        patch.setenv("AR_WAREHOUSE_URL", f"duckdb:///{root / 'warehouse.duckdb'}")
        return build_definitions(load_practices(path)).resolve_asset_graph()


@pytest.fixture(scope="module")
def manifest() -> dict[str, Any]:
    loaded: dict[str, Any] = json.loads(Path(DBT_PROJECT.manifest_path).read_text())
    return loaded


def dbt_assets(graph: Any) -> dict[str, Any]:
    """The dbt models' assets by their dbt unique id."""
    return {
        node.metadata[UNIQUE_ID]: node
        for node in (graph.get(key) for key in graph.get_all_asset_keys())
        if UNIQUE_ID in node.metadata and node.is_materializable
    }


def test_every_dbt_model_is_an_asset_under_the_local_prefix(
    graph: Any, manifest: dict[str, Any]
) -> None:
    models = {
        unique_id: node["name"]
        for unique_id, node in manifest["nodes"].items()
        if node["resource_type"] == "model"
    }
    keys = {unique_id: node.key.path for unique_id, node in dbt_assets(graph).items()}

    assert keys == {unique_id: ["local", name] for unique_id, name in models.items()}
    assert dg.AssetKey(["local", "statements"]) in graph.get_all_asset_keys()


def test_an_asset_without_a_prefix_shares_its_name_with_no_other_asset(graph: Any) -> None:
    names = Counter(key.path[-1] for key in graph.get_all_asset_keys())
    unprefixed = [key.path[0] for key in graph.get_all_asset_keys() if len(key.path) == 1]

    assert unprefixed  # reconciliation
    assert {name: names[name] for name in unprefixed} == dict.fromkeys(unprefixed, 1)


def test_a_dbt_models_description_is_its_yml_description_without_sql(
    graph: Any, manifest: dict[str, Any]
) -> None:
    for unique_id, node in dbt_assets(graph).items():
        written = " ".join(manifest["nodes"][unique_id]["description"].split())
        assert written
        assert node.description == written


def test_no_asset_description_holds_jinja_or_sql(graph: Any) -> None:
    for key in graph.get_all_asset_keys():
        description = graph.get(key).description or ""
        assert not SQL.search(description), key.to_user_string()


def test_every_asset_check_is_described_and_kept_per_practice(graph: Any) -> None:
    checks = list(graph.asset_check_keys)
    assert len(checks) > 50  # dbt's data tests among them
    for check in checks:
        spec = graph.get(check)
        assert (spec.description or "").strip(), check.to_user_string()
        # Partitioned like its asset: each practice's result stands on its own.
        partitions = graph.get(check.asset_key).partitions_def
        assert partitions is not None
        assert spec.partitions_def == partitions


def test_every_asset_has_a_kind_and_the_warehouses_assets_name_the_warehouse(graph: Any) -> None:
    for key in graph.get_all_asset_keys():
        assert graph.get(key).kinds, key.to_user_string()
    for node in dbt_assets(graph).values():
        assert node.kinds == {"dbt", "duckdb"}
    assert graph.get(dg.AssetKey(["normalized", "ledger_entries"])).kinds == {"pandas", "duckdb"}


@pytest.mark.parametrize(
    ("url", "kind"),
    [
        ("duckdb:///data/warehouse.duckdb", "duckdb"),
        ("postgresql://ar@db.internal:5432/warehouse", "postgres"),
    ],
)
def test_the_warehouses_kind_follows_its_url(url: str, kind: str) -> None:
    assert warehouse_kind(url) == kind


def a_test(name: str, column: str | None = None, **arguments: Any) -> dict[str, Any]:
    """A data test as dbt's manifest holds it, without a description of its own."""
    kwargs = {**arguments, **({"column_name": column} if column else {})}
    return {
        "name": f"{name}_model",
        "description": "",
        "column_name": column,
        "test_metadata": {"name": name, "kwargs": {"model": "{{ ref('m') }}", **kwargs}},
    }


@pytest.mark.parametrize(
    ("test", "sentence"),
    [
        (a_test("not_null", "amount"), "amount is never null."),
        (a_test("unique", "external_id"), "external_id is unique: no two rows share one."),
        (
            a_test("accepted_values", "transaction_type", values=["charge", "adjustment"]),
            "transaction_type is one of charge, adjustment.",
        ),
        (
            a_test(
                "relationships",
                "payment_external_id",
                to="ref('stg_ledger_entries')",
                field="external_id",
            ),
            "Every payment_external_id is the external_id of a row of stg_ledger_entries.",
        ),
        (
            a_test(
                "unique_combination_of_columns",
                combination_of_columns=["customer_external_id", "period_start"],
            ),
            "No two rows share a (customer_external_id, period_start).",
        ),
        (
            {**a_test("paid_oldest_first"), "description": "Paid\n  oldest first.\n"},
            "Paid oldest first.",
        ),
    ],
)
def test_a_checks_description_is_its_tests_yml_description_or_a_sentence_made_from_the_test(
    test: dict[str, Any], sentence: str
) -> None:
    assert check_description(test) == sentence
