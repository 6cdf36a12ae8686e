"""A local, faithful server of the Agile Receivables External API.

Independent of ``ar_pipelines`` by design: it implements the contract of
``docs/contract.md`` on its own, so that it checks the pipelines instead of agreeing
with them by construction.
"""

__version__ = "0.1.0"
