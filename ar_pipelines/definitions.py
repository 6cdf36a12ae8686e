"""The Dagster code location: ``dagster dev -w workspace.yaml`` loads ``defs`` from here.

Everything is built by ``ar_pipelines.defs.build_definitions`` from the practices file
(``AR_PRACTICES_FILE``, by default ``practices.toml`` in the working directory).
"""

import dagster as dg

from ar_pipelines.defs import build_definitions
from ar_pipelines.defs.practices import PracticeConfigError


class PracticesFileError(PracticeConfigError, dg.DagsterInvalidDefinitionError):
    """The practices file keeps the code location from loading.

    As a definition error it is one Dagster shows as it is, rather than under its own
    "Error occurred during the loading of Dagster definitions" and the loader's frames:
    the location's error starts with the file's one line."""


try:
    defs = build_definitions()
except PracticeConfigError as err:
    # The line names the file, the practice and the field; the parser's frames add nothing.
    raise PracticesFileError(str(err)) from None
