"""Documents: the daily missing briefing, forms, lists and letters, rendered from Jinja templates and delivered.

The package is plain Python like the rest of the domain: ``briefing``/``forms``/``weekly`` read the store into
dataclasses, ``render`` turns them into HTML, PDF (WeasyPrint) and Word (docxtpl), ``delivery`` files them in the
output store and mails them, keyed by the ``Delivery`` table so nothing is sent twice. The jobs in
``missing_episodes.jobs.documents`` string those together with only pseudonymous ids crossing their boundary, and
the Prefect tasks wrap the jobs. Heavy imports (WeasyPrint, docxtpl) happen inside the functions that need them so
that importing this package stays cheap.
"""


class DocumentError(ValueError):
    """A document cannot be produced. The message names pseudonymous refs only, never a child's name."""
