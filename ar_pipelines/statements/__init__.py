"""Statements computed in plain Python: the reference the other implementations match."""

from ar_pipelines.statements.reference import (
    Allocation,
    LedgerEntry,
    Statement,
    StatementsResult,
    compute_statements,
)

__all__ = ["Allocation", "LedgerEntry", "Statement", "StatementsResult", "compute_statements"]
