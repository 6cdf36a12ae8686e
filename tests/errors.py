"""Exception chains built for tests."""

from __future__ import annotations


def chained(*errors: Exception) -> Exception:
    """``errors[0]`` raised from ``errors[1]``, raised from ``errors[2]``, ..."""
    caught: Exception | None = None
    for error in reversed(errors):
        try:
            raise error from caught
        except Exception as err:
            caught = err
    assert caught is not None
    return caught
