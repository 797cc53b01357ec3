"""Word templates for docxtpl, built with python-docx in code rather than committed as binary files.

A .docx in git cannot be reviewed in a diff; this module can, and the Jinja tags it writes are each put in a
single run so Word's habit of splitting text across runs can never break a tag. The templates use the same
dataclasses and filters as the HTML ones. Built once per process and kept in memory. Pages are A4 with the
PDFs' margins (python-docx starts from US Letter); docxtpl keeps the template's section settings.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from io import BytesIO

from docx import Document
from docx.document import Document as DocumentType
from docx.enum.section import WD_ORIENT
from docx.enum.text import WD_ALIGN_PARAGRAPH
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Mm, Pt, RGBColor

MARKING = "OFFICIAL-SENSITIVE"


def _page_field(paragraph, instruction: str) -> None:
    """Insert a Word field (PAGE / NUMPAGES) so the page count is Word's own, like the PDF's."""
    field = OxmlElement("w:fldSimple")
    field.set(qn("w:instr"), instruction)
    run = OxmlElement("w:r")
    text = OxmlElement("w:t")
    text.text = "1"
    run.append(text)
    field.append(run)
    paragraph._p.append(field)


#: A4 with the PDFs' margins (``templates/documents/page.css``): python-docx's blank document is US Letter.
A4_WIDTH, A4_HEIGHT = Mm(210), Mm(297)
MARGINS = {"top_margin": Mm(20), "right_margin": Mm(14), "bottom_margin": Mm(16), "left_margin": Mm(14)}


def set_a4(doc: DocumentType) -> None:
    """Every section A4 portrait with the PDFs' margins, so a printed Word file matches its PDF."""
    for section in doc.sections:
        section.orientation = WD_ORIENT.PORTRAIT
        section.page_width, section.page_height = A4_WIDTH, A4_HEIGHT
        for name, value in MARGINS.items():
            setattr(section, name, value)


def _new_document(header_tag: str) -> DocumentType:
    doc = Document()
    set_a4(doc)
    style = doc.styles["Normal"]
    style.font.name = "Arial"
    style.font.size = Pt(10)
    section = doc.sections[0]
    header = section.header.paragraphs[0]
    header.text = header_tag
    marking = section.header.add_paragraph()
    marking.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    run = marking.add_run(MARKING)
    run.bold = True
    run.font.color.rgb = RGBColor(0x8A, 0x1C, 0x1C)
    footer = section.footer.paragraphs[0]
    footer_run = footer.add_run(f"{MARKING}    Page ")
    footer_run.bold = True
    _page_field(footer, "PAGE")
    footer.add_run(" of ")
    _page_field(footer, "NUMPAGES")
    return doc


def _facts(doc: DocumentType, rows: list[tuple[str, str]]) -> None:
    table = doc.add_table(rows=0, cols=2)
    table.style = "Table Grid"
    for label, value in rows:
        cells = table.add_row().cells
        cells[0].paragraphs[0].add_run(label).bold = True
        cells[1].paragraphs[0].add_run(value)


def _loop_table(doc: DocumentType, headers: list[str], loop: str, cells: list[str]) -> None:
    """A table whose body repeats once per item: docxtpl's ``{%tr %}`` rows hold the loop tags."""
    table = doc.add_table(rows=1, cols=len(headers))
    table.style = "Table Grid"
    for cell, text in zip(table.rows[0].cells, headers, strict=True):
        cell.paragraphs[0].add_run(text).bold = True
    table.add_row().cells[0].paragraphs[0].add_run("{%tr for " + loop + " %}")
    for cell, text in zip(table.add_row().cells, cells, strict=True):
        cell.paragraphs[0].add_run(text)
    table.add_row().cells[0].paragraphs[0].add_run("{%tr endfor %}")


def _write_in(doc: DocumentType, title: str, prompt: str, blank_lines: int = 4) -> None:
    doc.add_heading(title, level=3)
    doc.add_paragraph().add_run(prompt).italic = True
    for _ in range(blank_lines):
        doc.add_paragraph("")


def _serious_notification() -> DocumentType:
    doc = _new_document("Serious notification · {{ form.episode.ref }} · {{ form.authority }}")
    doc.add_heading("Serious notification: child missing", level=1)
    doc.add_paragraph("{{ form.rule_title }}. Policy {{ form.policy_version }}, rule {{ form.rule_id }}.")
    _facts(
        doc,
        [
            ("To", "{{ form.recipients | join('; ') }}"),
            ("From", "{{ form.actor }} ({{ form.child.team | dash }})"),
            (
                "Status",
                "{% if form.still_missing %}Still missing, {{ form.hours_missing | duration }} since last "
                "seen{% else %}Found {{ form.episode.found_at | london }} after {{ form.hours_missing | duration }}"
                "{% endif %} (at {{ form.as_of | london }})",
            ),
        ],
    )
    doc.add_heading("The child", level=2)
    _facts(
        doc,
        [
            ("Name", "{{ form.child.name }} ({{ form.child.ref }})"),
            ("Date of birth", "{{ form.child.date_of_birth | london }}"),
            ("Legal status", "{{ form.child.legal_status | humanise }}{% if form.child.uasc %} (UASC){% endif %}"),
            ("Placement", "{{ form.child.placement | dash }}"),
            ("Allocated worker / team", "{{ form.child.allocated_worker | dash }} / {{ form.child.team | dash }}"),
        ],
    )
    doc.add_heading("The missing episode", level=2)
    _facts(
        doc,
        [
            ("Episode / police reference", "{{ form.episode.ref }} / {{ form.episode.incident_ref }}"),
            ("Last seen", "{{ form.episode.last_seen_at | london }}, {{ form.episode.last_seen_location | dash }}"),
            ("Police contacted", "{% if form.episode.police_contacted_at %}"
                                 "{{ form.episode.police_contacted_at | london }}{% else %}not recorded{% endif %}"),
            ("Police notification received", "{{ form.episode.reported_at | london }}"),
            ("Police risk grading", "{{ form.episode.risk_level | humanise }}"),
            ("Wearing", "{{ form.episode.clothing | dash }}"),
            ("Areas searched", "{{ form.episode.areas_searched | one_line }}"),
        ],
    )
    doc.add_heading("Find Me plan", level=2)
    _facts(
        doc,
        [
            ("Photograph", "{{ form.find_me.photo_ref | dash }}"),
            ("Mobile phone", "{{ form.find_me.phone | dash }}"),
            ("Likely to go", "{{ form.find_me.likely_locations | one_line }}"),
            ("Friends, family, significant others", "{{ form.find_me.contacts | one_line }}"),
            ("Return to", "{{ form.find_me.return_address | one_line }}"),
        ],
    )
    doc.add_heading("Who was informed, contacted and updated", level=2)
    _loop_table(
        doc,
        ["When", "Kind", "Who", "Contact details", "What was shared"],
        "c in form.contacts",
        ["{{ c.at | london }}", "{{ c.kind }}", "{{ c.who | dash }}", "{{ c.contact | dash }}",
         "{{ c.shared | dash }}"],
    )
    doc.add_heading("Statutory actions on this episode", level=2)
    _loop_table(
        doc,
        ["Action", "Due", "Status", "Assigned to"],
        "a in form.actions",
        ["{{ a.title }}", "{{ a.due_at | london }}", "{{ a.status | humanise }}", "{{ a.assigned_to | dash }}"],
    )
    _write_in(doc, "Team Manager's summary of concerns and media position", "Completed by, date and time sent.", 6)
    return doc


def _rhi_record() -> DocumentType:
    doc = _new_document("Return Home Interview record · {{ record.episode.ref }} · {{ record.authority }}")
    doc.add_heading("Return Home Interview record", level=1)
    _facts(
        doc,
        [
            ("Child", "{{ record.child.name }} ({{ record.child.ref }})"),
            ("Date of birth", "{{ record.child.date_of_birth | london }}"),
            ("Episode / police reference", "{{ record.episode.ref }} / {{ record.episode.incident_ref }}"),
            (
                "Missing from – found",
                "{{ record.episode.started_at | london }} – {{ record.episode.found_at | london }}",
            ),
            ("Interview due by", "{{ record.due_at | london }}"),
            ("Interviewer", "{{ record.assigned_to | dash }}"),
            (
                "Allocated social worker / team",
                "{{ record.child.allocated_worker | dash }} / {{ record.child.team | dash }}",
            ),
            (
                "Placement",
                "{{ record.child.placement | dash }}{% if record.distant_placement_note %}. "
                "{{ record.distant_placement_note }}{% endif %}",
            ),
            ("Earlier missing episodes", "{{ record.previous_episodes }}"),
        ],
    )
    for title, prompt in RHI_HEADINGS:
        _write_in(doc, title, prompt)
    return doc


#: Wakefield section 6: what the return interview must find out and record.
RHI_HEADINGS: list[tuple[str, str]] = [
    (
        "1. Contact with the allocated social worker",
        "Planned interview shared; background, how best to make contact, health and safety issues.",
    ),
    (
        "2. Arranging the interview with the carer",
        "Who was contacted, when; venue where the child can talk freely; known adult requested?",
    ),
    ("3. The interview", "Date, time, venue, who was present."),
    (
        "4. Why the child went missing",
        "Underlying issues: relationships at home or in placement, abuse or neglect, bullying.",
    ),
    (
        "5. Harm and safeguarding concerns",
        "Risk of abuse, sexual or criminal exploitation, trafficking; harm while missing.",
    ),
    ("6. The young person's views, in their own words", "What they said, and what they want to happen."),
    (
        "7. If the interview was declined",
        "Every attempt made to engage and the reason for refusal; information from the carer.",
    ),
    (
        "8. Information shared and feedback given",
        "With the social worker, parent or carer; referral to Children's "
        "Social Care or the Early Help Hub if not open.",
    ),
    (
        "9. For the Find Me plan and safety plan",
        "Places, people and phone numbers learned; activities that build self-esteem and inclusion.",
    ),
]


def _written_confirmation() -> DocumentType:
    """The care leaver's letter; it goes to the young person, so its header shows no internal reference."""
    doc = _new_document("{{ letter.authority }} {{ letter.service }}")
    right = doc.add_paragraph()
    right.alignment = WD_ALIGN_PARAGRAPH.RIGHT
    right.add_run("{{ letter.authority }} Children's Services, {{ letter.service }}").bold = True
    right.add_run(" · Duty line {{ letter.duty_letterhead }}")
    doc.add_paragraph("{{ letter.child.name }}")
    doc.add_paragraph("{{ letter.address | one_line }}")
    doc.add_paragraph("{{ letter.letter_date | london('%d %B %Y') }}")
    doc.add_paragraph("Dear {{ letter.child.first_name or letter.child.name }},")
    doc.add_paragraph(
        "When we last spoke you told us that you do not want support from the {{ letter.service }} at the moment. "
        "We respect that decision, and this letter confirms it in writing."
    )
    doc.add_paragraph(
        "You can change your mind at any time. As a care leaver you are entitled to ask us for a Personal Advisor "
        "and for support with housing, education, training, work, money and health "
        "{% if letter.support_until %}until your 25th birthday on {{ letter.support_until | london('%d %B %Y') }}"
        "{% else %}until you are 25{% endif %}. If you ask, we will arrange to meet you and agree a pathway plan."
    )
    doc.add_paragraph(
        "To ask for support, contact {% if letter.personal_advisor and letter.advisor_contact %}your Personal "
        "Advisor, {{ letter.personal_advisor }}, {{ letter.advisor_contact }}, or the {{ letter.service }} duty line "
        "{{ letter.duty_line }}{% elif letter.personal_advisor %}your Personal Advisor, {{ letter.personal_advisor }}, "
        "through the {{ letter.service }} duty line {{ letter.duty_line }}{% else %}the {{ letter.service }} duty "
        "line {{ letter.duty_line }}{% endif %}."
    )
    doc.add_paragraph("Yours sincerely,")
    doc.add_paragraph("{{ letter.personal_advisor | dash }}, Personal Advisor")
    return doc


BUILDERS: dict[str, Callable[[], DocumentType]] = {
    "serious_notification": _serious_notification,
    "rhi_record": _rhi_record,
    "written_confirmation": _written_confirmation,
}


@cache
def docx_template_bytes(name: str) -> bytes:
    """The named Word template as .docx bytes (docxtpl reads it from a BytesIO)."""
    buffer = BytesIO()
    BUILDERS[name]().save(buffer)
    return buffer.getvalue()
