"""The Dagster code location: ``dagster dev -w workspace.yaml`` loads ``defs`` from here.

Everything is built by ``ar_pipelines.defs.build_definitions`` from the practices file
(``AR_PRACTICES_FILE``, by default ``practices.toml`` in the working directory).
"""

from ar_pipelines.defs import build_definitions

defs = build_definitions()
