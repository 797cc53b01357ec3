"""A spreadsheet cell that must not run: the one rule every CSV and Excel writer of the product applies.

OWASP, "CSV Injection": text starting with ``=``, ``+``, ``-``, ``@``, a tab, a carriage return or a line feed (or
the full-width forms of the four symbols, which some spreadsheet programs read the same way) is run as a formula
when the file is opened. ``neutralise`` prefixes such text with a single quote so it is shown as the text it is;
anything that is not text (a negative count, a date) is left alone. Import-free, so the command line's CSV output
uses the same rule without loading pandas.
"""

from __future__ import annotations

#: OWASP's list (= + - @ tab CR), line feed, and the full-width forms of the four symbols.
FORMULA_TRIGGERS = ("=", "+", "-", "@", "\t", "\r", "\n", "\uff1d", "\uff0b", "\uff0d", "\uff20")
QUOTE = "'"


def neutralise(value: object) -> object:
    """``value`` as safe to put in a spreadsheet cell: text that a spreadsheet would run as a formula gets a
    leading single quote; anything that is not text (numbers, dates, blanks) is returned unchanged."""
    if isinstance(value, str) and value.startswith(FORMULA_TRIGGERS):
        return QUOTE + value
    return value
