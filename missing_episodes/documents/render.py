"""Render documents: HTML from the sandboxed Jinja environment, PDF with WeasyPrint, Word with docxtpl.

Each ``render_*`` writes its files into ``out_dir`` under names that carry only dates and pseudonymous refs (a
file name shows up in listings, mail headers and Prefect artifacts) and returns the paths it wrote. WeasyPrint
and docxtpl are imported on first use: they take about a second to import and the read-only CLI must not pay it.
"""

from __future__ import annotations

from io import BytesIO
from pathlib import Path
from typing import Any

from missing_episodes import collector
from missing_episodes.documents.briefing_pack import BriefingPack
from missing_episodes.documents.docx_templates import RHI_HEADINGS, docx_template_bytes
from missing_episodes.documents.environment import DOCUMENT_TEMPLATES, docx_environment, html_environment
from missing_episodes.documents.forms import RhiRecord, SeriousNotification, WrittenConfirmation
from missing_episodes.documents.incident import IncidentRecord
from missing_episodes.documents.weekly import WeeklyList


def render_html(template: str, **context: Any) -> str:
    """Render an HTML template from ``templates/documents`` (sandboxed, autoescaped, strict)."""
    return html_environment().get_template(template).render(**context)


def write_pdf(html: str, path: Path) -> Path:
    """Lay out the HTML as a paginated PDF; fonts come from the system (Pango/fontconfig)."""
    from weasyprint import HTML

    with collector.paused():
        HTML(string=html, base_url=str(DOCUMENT_TEMPLATES)).write_pdf(str(path))
    return path


def write_docx(template: str, context: dict[str, Any], path: Path) -> Path:
    """Fill a Word template with docxtpl in its own autoescaping sandbox (see ``environment``)."""
    from docxtpl import DocxTemplate

    document = DocxTemplate(BytesIO(docx_template_bytes(template)))
    document.render(context, jinja_env=docx_environment(), autoescape=True)
    document.save(str(path))
    return path


def _html_and_pdf(out_dir: Path, stem: str, template: str, context: dict[str, Any]) -> list[Path]:
    out_dir.mkdir(parents=True, exist_ok=True)
    html = render_html(template, **context)
    html_path = out_dir / f"{stem}.html"
    html_path.write_text(html, encoding="utf-8")
    return [html_path, write_pdf(html, out_dir / f"{stem}.pdf")]


def briefing_stem(pack: BriefingPack) -> str:
    return f"briefing-{pack.day.isoformat()}"


def render_briefing(pack: BriefingPack, out_dir: Path) -> list[Path]:
    """Write ``briefing-YYYY-MM-DD.html`` and ``.pdf``."""
    return _html_and_pdf(Path(out_dir), briefing_stem(pack), "briefing.html.j2", {"pack": pack})


def render_serious_notification(form: SeriousNotification, out_dir: Path) -> list[Path]:
    """Write the form as HTML, PDF and Word (a Team Manager may add their summary in Word before sending)."""
    stem = f"serious-notification-{form.episode.ref}-{form.rule_id.replace('.', '-')}"
    paths = _html_and_pdf(Path(out_dir), stem, "serious_notification.html.j2", {"form": form})
    return [*paths, write_docx("serious_notification", {"form": form}, Path(out_dir) / f"{stem}.docx")]


def render_weekly_list(weekly: WeeklyList, out_dir: Path) -> list[Path]:
    """Write ``weekly-list-YYYY-MM-DD.html`` and ``.pdf`` (the date is the last day of the week)."""
    stem = f"weekly-list-{weekly.week_ending.isoformat()}"
    return _html_and_pdf(Path(out_dir), stem, "weekly_list.html.j2", {"weekly": weekly})


def render_rhi_record(record: RhiRecord, out_dir: Path) -> list[Path]:
    """Write the interviewer's record template: Word to fill in, HTML and PDF to print."""
    stem = f"rhi-record-{record.episode.ref}"
    context = {"record": record, "headings": RHI_HEADINGS}
    paths = _html_and_pdf(Path(out_dir), stem, "rhi_record.html.j2", context)
    return [*paths, write_docx("rhi_record", {"record": record}, Path(out_dir) / f"{stem}.docx")]


def render_written_confirmation(letter: WrittenConfirmation, out_dir: Path) -> list[Path]:
    """Write the care leaver's letter as HTML, PDF and Word."""
    stem = f"written-confirmation-{letter.child.ref}-{letter.letter_date.isoformat()}"
    paths = _html_and_pdf(Path(out_dir), stem, "written_confirmation.html.j2", {"letter": letter})
    return [*paths, write_docx("written_confirmation", {"letter": letter}, Path(out_dir) / f"{stem}.docx")]


def render_incident_record(record: IncidentRecord, out_dir: Path) -> list[Path]:
    """Write the episode's incident record as HTML and PDF (a record to read and file, not a form to fill in)."""
    stem = f"incident-record-{record.episode.ref}"
    return _html_and_pdf(Path(out_dir), stem, "incident_record.html.j2", {"record": record})
