"""How each practice stands, on one page: the rows, the stale rules and the HTML.

::

    from ar_pipelines.health import PracticeHealth, stale_reasons, write_page

    row = PracticeHealth("P001", last_run_status="FAILURE", reconciliation_clean=False)
    stale_reasons(row, now)          # why its source or reconciliation is stale
    write_page([row], Path("data/reports"), generated_at=now)   # practices.html

The rows are filled from Dagster's records by ``ar_pipelines.defs.health``; this package
only knows the rows, so it has no Dagster in it.
"""

from ar_pipelines.health.page import PAGE_NAME, render_page, write_page
from ar_pipelines.health.row import (
    CLEAN,
    COUNT_NAMES,
    DEFAULT_MAX_CLEAN_AGE,
    FAILED_STATUSES,
    NEVER,
    NOT_CLEAN,
    PracticeHealth,
    describe_age,
    problems,
    stale_reasons,
)

__all__ = [
    "CLEAN",
    "COUNT_NAMES",
    "DEFAULT_MAX_CLEAN_AGE",
    "FAILED_STATUSES",
    "NEVER",
    "NOT_CLEAN",
    "PAGE_NAME",
    "PracticeHealth",
    "describe_age",
    "problems",
    "render_page",
    "stale_reasons",
    "write_page",
]
