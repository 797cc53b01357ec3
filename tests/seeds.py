"""The practice documents behind the product (``../shared/seeds/`` beside the repository), read for the checks that
every rule's ``seed`` quotes them and that the requirements matrix does.

The seeds are not part of the repository: they are looked for beside it, or where ``MISSING_EPISODES_SEEDS``
points; when absent the checks that need them are skipped with a message saying where they were looked for.

A rule's ``seed`` reads ``<where>: <quote> [... <quote>] [(<who acts>)]``: the text before the first colon says
where (document and section), the quoted parts are separated by ``...`` and each must appear in the seeds word for
word, bar case, spacing, typographic quotes and Markdown emphasis; a closing parenthesis names who acts.
"""

from __future__ import annotations

import os
import re
from functools import cache
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def seeds_dir() -> Path:
    return Path(os.environ.get("MISSING_EPISODES_SEEDS") or ROOT.parent / "shared" / "seeds")


def normalise(text: str) -> str:
    """Lower case, one space for any run of spacing, straight quotes and hyphens, no Markdown ``**`` or ``_``."""
    for fancy, plain in (("’", "'"), ("‘", "'"), ("“", '"'), ("”", '"'), ("–", "-"), ("—", "-"), ("**", ""),
                         ("_", " ")):
        text = text.replace(fancy, plain)
    return re.sub(r"\s+", " ", text).strip().lower()


@cache
def seed_texts() -> dict[str, str]:
    """Each seed file's name and normalised text ({} when the seeds are not there)."""
    folder = seeds_dir()
    if not folder.is_dir():
        return {}
    return {path.name: normalise(path.read_text(encoding="utf-8")) for path in sorted(folder.glob("*.txt"))}


def skip_reason() -> str:
    return f"the practice documents are not at {seeds_dir()} (set MISSING_EPISODES_SEEDS to their folder)"


def rule_quote(seed: str) -> str:
    """The quoted text of a rule's ``seed`` field, without its "where:" and "(who acts)" (see the docstring)."""
    body = seed.split(":", 1)[1] if ":" in seed else seed
    return re.sub(r"\([^()]*\)\s*$", "", body.strip())


def missing_fragments(quote: str, seed_file: str | None = None) -> list[str]:
    """The parts of ``quote`` (separated by ``...``) found in no seed, or not in ``seed_file`` when one is named."""
    texts = seed_texts()
    where = [texts[seed_file]] if seed_file else list(texts.values())
    parts = [part.strip(" .,;") for part in quote.split("...") if part.strip(" .,;")]
    return [part for part in parts if not any(normalise(part) in text for text in where)]
