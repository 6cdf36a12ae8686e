"""What can go wrong computing statements locally.

::

    LocalStatementsError
     ├── InvalidLedgerError   the ledger file is unreadable or breaks the input contract
     ├── WarehouseError       the warehouse URL is wrong or the database refused
     └── DbtRunError          a model or a test on the results failed

``InvalidLedgerError`` is also a ``ValueError``: bad input, not a failure of the code.
"""

from __future__ import annotations


class LocalStatementsError(Exception):
    """Base of every error of the local statements runner."""


class InvalidLedgerError(LocalStatementsError, ValueError):
    """The ledger cannot be read, or the staging tests refused it
    (``docs/contract.md#ledger-entry-types-and-signs``)."""


class WarehouseError(LocalStatementsError):
    """The warehouse URL is not understood, or the database refused a load or an export."""


class DbtRunError(LocalStatementsError):
    """dbt failed: ``failures`` names each failed model or test with dbt's message."""

    def __init__(self, message: str, failures: tuple[str, ...] = ()) -> None:
        super().__init__(message)
        self.failures = failures
