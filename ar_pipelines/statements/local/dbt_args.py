"""How every dbt invocation of the runner is made: the project, profile, target, vars
and environment for a warehouse."""

from __future__ import annotations

import json
from contextlib import AbstractContextManager
from pathlib import Path

from ar_pipelines._environment import environment_set
from ar_pipelines.statements.local.warehouse import Warehouse

PROJECT_DIR = Path(__file__).resolve().parents[3] / "dbt_project"


def dbt_vars(warehouse: Warehouse) -> str:
    return json.dumps(warehouse.dbt_vars(), sort_keys=True)


def dbt_arguments(
    warehouse: Warehouse, target_dir: Path, *, partial_parse: bool = False
) -> list[str]:
    return [
        "--project-dir",
        str(PROJECT_DIR),
        "--profiles-dir",
        str(PROJECT_DIR),
        "--target",
        warehouse.target,
        "--target-path",
        str(target_dir / "target"),
        "--log-path",
        str(target_dir / "logs"),
        "--vars",
        dbt_vars(warehouse),
        "--log-level",
        "none",
        "--log-level-file",
        "none",
        "--partial-parse" if partial_parse else "--no-partial-parse",
        "--no-write-json",
        "--no-version-check",
        "--no-send-anonymous-usage-stats",
        "--no-use-colors",
    ]


def dbt_environment(values: dict[str, str]) -> AbstractContextManager[None]:
    """The profile's variables for one invocation, and the previous ones back after it."""
    return environment_set({**values, "DBT_SEND_ANONYMOUS_USAGE_STATS": "false"})
