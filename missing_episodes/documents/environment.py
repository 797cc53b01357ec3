"""The Jinja environments every document is rendered with.

Templates are data a local authority may edit, and the values poured into them come from police feeds, so both
are untrusted: rendering happens in a ``SandboxedEnvironment`` (a template cannot reach Python internals),
with ``StrictUndefined`` (a misspelt field fails loudly instead of printing an empty box on a statutory form) and
autoescaping. ``select_autoescape`` only escapes the extensions it is told about, so ``.html.j2`` is named
explicitly; a test proves ``<script>`` comes out escaped. docxtpl renders Word XML with its own environment,
which must autoescape too: an unescaped ``&`` or ``<`` makes the XML invalid, and docxtpl's forgiving parser then
silently drops the text around it.

Every environment prints each value through ``display.display_value`` (Jinja's ``finalize``): bidirectional
controls removed and runaway lengths cut, so a hostile name can neither reverse a line nor push a table off the
page, whichever template prints it.
"""

from __future__ import annotations

from datetime import date, datetime
from functools import lru_cache

from jinja2 import FileSystemLoader, StrictUndefined, select_autoescape
from jinja2.sandbox import SandboxedEnvironment

from missing_episodes.clock import as_london
from missing_episodes.config import TEMPLATES_DIR
from missing_episodes.documents.display import display_value

DOCUMENT_TEMPLATES = TEMPLATES_DIR / "documents"
HTML_EXTENSIONS = ("html", "htm", "xml", "html.j2", "htm.j2", "xml.j2")
MISSING = "—"


def london(value: datetime | date | None, fmt: str = "%a %d %b %Y %H:%M") -> str:
    """A stored UTC instant as Europe/London wall-clock time; dates are shown as they are."""
    if value is None:
        return MISSING
    if isinstance(value, datetime):
        return as_london(value).strftime(fmt)
    return value.strftime(fmt if "%H" not in fmt else "%a %d %b %Y")


def short(value: datetime | None, reference: date) -> str:
    """A London time without its year when it falls in the reference year ("Tue 11 Nov 06:08"), else with it.

    The briefing is read fast: the weekday helps, but an interview overdue since last November must not read as
    this November.
    """
    if value is None:
        return MISSING
    local = as_london(value)
    return local.strftime("%a %d %b %H:%M" if local.year == reference.year else "%d %b %Y %H:%M")


def duration(hours: float | None) -> str:
    """Elapsed real hours as a coordinator says them: "37 h 30 min"; "3 d 2 h" past 72 h; "12 days" past a week."""
    if hours is None:
        return MISSING
    minutes = max(round(hours * 60), 0)
    whole_hours, mins = divmod(minutes, 60)
    if whole_hours >= 24 * 7:
        return f"{whole_hours // 24} days"
    if whole_hours >= 72:
        days, rest = divmod(whole_hours, 24)
        return f"{days} d {rest} h"
    return f"{whole_hours} h {mins:02d} min" if mins else f"{whole_hours} h"


def dash(value: object) -> object:
    """Show an em dash for a missing value, so a blank on a form reads as 'not recorded', not as a rendering bug."""
    return MISSING if value is None or value == "" else value


def lines(value: str | None) -> list[str]:
    """Split free text (contacts, likely locations) into non-empty lines for lists in HTML and Word."""
    if not value:
        return []
    return [line.strip() for line in value.replace("\r", "").split("\n") if line.strip()]


def one_line(value: str | None) -> str:
    """Free text on one line (Word runs cannot carry a bare newline)."""
    return "; ".join(lines(value)) if value else MISSING


def humanise(value: str | None) -> str:
    """``no_apparent_risk`` -> ``no apparent risk``: stored codes shown as words."""
    return MISSING if not value else value.replace("_", " ")


def _install_filters(env: SandboxedEnvironment) -> SandboxedEnvironment:
    env.filters.update(
        london=london, short=short, duration=duration, dash=dash, lines=lines, one_line=one_line, humanise=humanise
    )
    return env


@lru_cache(maxsize=1)
def html_environment() -> SandboxedEnvironment:
    """The environment for HTML (and plain-text mail) templates under ``templates/documents``."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(DOCUMENT_TEMPLATES)),
        autoescape=select_autoescape(enabled_extensions=HTML_EXTENSIONS, default_for_string=True, default=True),
        undefined=StrictUndefined,
        finalize=display_value,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    return _install_filters(env)


def text_environment() -> SandboxedEnvironment:
    """Plain-text templates (mail bodies): sandboxed and strict, but not HTML-escaped."""
    env = SandboxedEnvironment(
        loader=FileSystemLoader(str(DOCUMENT_TEMPLATES)),
        autoescape=False,
        undefined=StrictUndefined,
        finalize=display_value,
        keep_trailing_newline=True,
    )
    return _install_filters(env)


def docx_environment() -> SandboxedEnvironment:
    """A fresh environment for docxtpl (it mutates ``autoescape`` on the one it is given, so never share it)."""
    env = SandboxedEnvironment(autoescape=True, undefined=StrictUndefined, finalize=display_value)
    return _install_filters(env)
