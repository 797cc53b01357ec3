"""How a value from a feed is shown in a document: invisible direction controls removed, runaway lengths cut.

Names, places and notes come from police and case-management feeds, so they may carry anything (issue 16.19).
Two things in them break a printed page rather than its markup, which escaping cannot help with:

* Unicode bidirectional controls (LRE, RLE, PDF, LRO, RLO; the isolates LRI, RLI, FSI, PDI; the LRM, RLM and
  ALM marks) reorder the characters *around* them as displayed: a right-to-left override inside a name turns
  "Zoe" into "eoZ", and the rest of its table cell with it. Text in right-to-left scripts needs none of them
  (the script's own letters carry their direction), so they are removed for display. The stored value is kept.
* A value thousands of characters long (a 5,004-character "name") pushes every other column off the page. A
  value is cut at ``MAX_DISPLAY_CHARS`` with an ellipsis; the page CSS wraps what is left (``overflow-wrap``).

Every Jinja environment of the documents applies ``display_value`` to each ``{{ … }}`` it prints (Jinja's
``finalize``), so no template can forget it. ``Markup`` is left alone: it is HTML the templates built themselves
(a macro's output), whose own values were already finalised when it was built.
"""

from __future__ import annotations

import re

from markupsafe import Markup

#: Longest value a document prints, in characters. Long enough for any real name, place or contact note (the
#: briefing's longest free-text cells run to a few hundred), short enough that a cell stays on its page.
MAX_DISPLAY_CHARS = 500
ELLIPSIS = "…"

#: LRM, RLM, ALM; LRE, RLE, PDF, LRO, RLO; LRI, RLI, FSI, PDI.
BIDI_CONTROLS = re.compile("[\u200e\u200f\u061c\u202a-\u202e\u2066-\u2069]")


def strip_bidi_controls(text: str) -> str:
    """``text`` without Unicode bidirectional formatting characters (the letters keep their own direction)."""
    return BIDI_CONTROLS.sub("", text)


def cut(text: str, limit: int = MAX_DISPLAY_CHARS) -> str:
    """``text`` cut to ``limit`` characters, the last one an ellipsis, when it is longer."""
    if len(text) <= limit:
        return text
    return text[: limit - 1].rstrip() + ELLIPSIS


def display_value(value: object) -> object:
    """What a template prints for ``value``: text cleaned and cut; ``Markup`` and non-text values as they are."""
    if isinstance(value, Markup) or not isinstance(value, str):
        return value
    return cut(strip_bidi_controls(value))
