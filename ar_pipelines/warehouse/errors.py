"""What can go wrong with the warehouse.

::

    WarehouseError              the URL is not understood, or the database refused
     └── WarehouseSchemaError   a table exists with other columns than declared
    LedgerFileError             a ledger file cannot be read, or its values do not fit

Bad frames handed to a write (a missing column, a duplicate key, money with more
than two decimals) are ``ValueError``, and so is a bad ledger file: a mistake of the
caller, not of the database.
"""

from __future__ import annotations


class WarehouseError(Exception):
    """The warehouse URL is not understood, or the database refused an operation."""


class WarehouseSchemaError(WarehouseError):
    """A table exists with columns other than the declared ones (an older layout, or
    another application's table): nothing is written to it."""


class LedgerFileError(ValueError):
    """A ledger file handed to ``load_ledger_file`` is not a .csv or .parquet file, cannot
    be read, lacks a required column, or holds a value its column cannot take (money with
    more than 2 decimal places, a date that is not one)."""
