"""Move Sikka-shaped practice transactions into Agile Receivables, compute statements
locally, and reconcile the two to the cent."""

__version__ = "0.1.0"
