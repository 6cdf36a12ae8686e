"""Benchmarks that ``make bench`` runs (``python -m bench``).

They print figures and assert nothing about time; they do fail when the work they
timed turns out to be wrong, so a broken server cannot post a fast figure.
"""
