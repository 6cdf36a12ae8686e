"""What can go wrong with the warehouse.

::

    WarehouseError              the URL is not understood, or the database refused
     └── WarehouseSchemaError   a table exists with other columns than declared

Bad frames handed to a write (a missing column, a duplicate key, money with more
than two decimals) are ``ValueError``: a mistake of the caller, not of the database.
"""

from __future__ import annotations


class WarehouseError(Exception):
    """The warehouse URL is not understood, or the database refused an operation."""


class WarehouseSchemaError(WarehouseError):
    """A table exists with columns other than the declared ones (an older layout, or
    another application's table): nothing is written to it."""
