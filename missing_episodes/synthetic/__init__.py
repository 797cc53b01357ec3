"""Deterministic synthetic feeds: a child register, police notifications and case outcomes.

No real child's record can ever be shipped or used to test, so every demo, test and benchmark runs on data made
here. Two configurations share one episode-emitting core (``emitter.Emitter``):

* ``generate_sample`` (``sample``, with its cast in ``cast``) writes the bundled sample of the fictional
  authority *Kingsbridge*: one year shaped like the Wolverhampton board report, plus the awkward cases the rules
  must meet (UASC and long-term missing, care leavers, children placed by other authorities, children not on the
  register, clock changes, open episodes at ``SAMPLE_AS_OF``).
* ``generate_region`` (``region``) scales the same emitter to a decade of a region for benchmarks, streaming
  rows to disk through small heaps so memory stays flat however many episodes are asked for.

The other modules: ``vocabulary`` (columns, fake names and places), ``draws`` (cheap random draws), ``timeline``
(dates and laying episodes out in time), ``register`` (register rows), ``sinks`` (CSV and JSON writers),
``fixed_files`` (the roster and the damaged rows). Every instant is integer seconds since the Unix epoch (UTC),
turned into text only when a row is written, by ``missing_episodes.clock.format_epoch``. Same seed, same bytes:
only ``random.Random(seed)`` draws are used, no set or hash order reaches the output, and CSV lines end in ``\\n``.
"""

from missing_episodes.synthetic.fixed_files import write_damaged, write_roster
from missing_episodes.synthetic.region import generate_region
from missing_episodes.synthetic.sample import generate_sample, sample_figures
from missing_episodes.synthetic.timeline import SAMPLE_AS_OF
from missing_episodes.synthetic.vocabulary import (
    AUTHORITY,
    CHILD_FIELDS,
    NOTIFICATION_FIELDS,
    OUTCOME_FIELDS,
    ROSTER,
    ROSTER_FIELDS,
)

__all__ = [
    "AUTHORITY",
    "CHILD_FIELDS",
    "NOTIFICATION_FIELDS",
    "OUTCOME_FIELDS",
    "ROSTER",
    "ROSTER_FIELDS",
    "SAMPLE_AS_OF",
    "generate_region",
    "generate_sample",
    "sample_figures",
    "write_damaged",
    "write_roster",
]
