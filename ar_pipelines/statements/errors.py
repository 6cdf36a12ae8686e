"""What can go wrong computing statements with the dbt project.

::

    StatementsError
     ├── InvalidLedgerError   the ledger file is unreadable or breaks the input contract
     └── DbtRunError          a model or a test on the results failed

``InvalidLedgerError`` is also a ``ValueError``: bad input, not a failure of the code.
A warehouse that cannot be opened or that refuses raises the warehouse's own
``WarehouseError`` (``ar_pipelines.warehouse``).
"""

from __future__ import annotations


class StatementsError(Exception):
    """Base of the errors of computing statements with the dbt project."""


class InvalidLedgerError(StatementsError, ValueError):
    """The ledger cannot be read, or the staging tests refused it
    (``docs/contract.md#ledger-entry-types-and-signs``)."""


class DbtRunError(StatementsError):
    """dbt failed: ``failures`` names each failed model or test with dbt's message."""

    def __init__(self, message: str, failures: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.failures = failures
