"""The Jinja environment report templates render in.

Report templates (``templates/reports``) are edited by the authority, so they get the documents' sandboxed,
autoescaping, StrictUndefined environment (and its filters). The documents' templates stay visible behind the
reports' own, so a report extends the same ``base.html.j2`` and page rules (``page.css``: the OFFICIAL-SENSITIVE
marking, page numbers, running header) as every other PDF.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import ChoiceLoader, Environment, FileSystemLoader

from missing_episodes.config import TEMPLATES_DIR
from missing_episodes.documents.environment import DOCUMENT_TEMPLATES, html_environment

REPORT_TEMPLATES = TEMPLATES_DIR / "reports"


@lru_cache(maxsize=1)
def report_environment() -> Environment:
    loader = ChoiceLoader([FileSystemLoader(str(REPORT_TEMPLATES)), FileSystemLoader(str(DOCUMENT_TEMPLATES))])
    return html_environment().overlay(loader=loader)
