"""``python -m ar_pipelines.cli``: the ``ar-pipelines`` command, from this interpreter."""

from __future__ import annotations

import sys

from ar_pipelines.cli import main

sys.exit(main())
