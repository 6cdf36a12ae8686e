"""Monthly statements, computed two ways.

- ``reference``: in plain Python, the reference the other implementations match (its
  names are exported here);
- ``local``: by the dbt project (``dbt_project/``) on a ledger file, the three marts
  as CSV files, on an embedded DuckDB or a warehouse of one's own; ``dbt`` is the one
  module that invokes dbt, for it and for the Dagster assets; ``errors`` says what
  can go wrong.
"""

from ar_pipelines.statements.reference import (
    Allocation,
    LedgerEntry,
    Statement,
    StatementsResult,
    compute_statements,
)

__all__ = ["Allocation", "LedgerEntry", "Statement", "StatementsResult", "compute_statements"]
