"""The Jinja environment report templates render in.

Report templates (``templates/reports``) are edited by the authority, so they get the documents package's
sandboxed, autoescaping, StrictUndefined environment (and its filters), overlaid with a loader for this folder.
Should that package be absent, an equivalent minimal environment is built here so reports still render safely.
"""

from __future__ import annotations

from functools import lru_cache

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from jinja2.sandbox import SandboxedEnvironment

from missing_episodes.config import TEMPLATES_DIR

REPORT_TEMPLATES = TEMPLATES_DIR / "reports"


@lru_cache(maxsize=1)
def report_environment() -> Environment:
    loader = FileSystemLoader(str(REPORT_TEMPLATES))
    try:
        from missing_episodes.documents.environment import html_environment
    except ImportError:  # the documents package is optional for reports
        return SandboxedEnvironment(loader=loader, autoescape=True, undefined=StrictUndefined)
    return html_environment().overlay(loader=loader)
