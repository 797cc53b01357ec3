"""The ``missing-episodes`` command line: the top layer, above ``flows`` (deployments and the CLI both start flows).

Commands that only read (the worklist, exports of stored data) call the domain and its jobs and never import Prefect,
so they answer in about a second. Commands that do work import their flow inside the command and run it, so a
coordinator's CLI run and a scheduled deployment go through the same orchestrated code.
"""

from cli import (  # noqa: F401  (each registers its commands)
    care_leavers,
    core,
    documents,
    notices,
    quarantine,
    record,
    reports,
    worklist,
)
from cli._app import app

__all__ = ["app"]
