"""Recording feeds: every message kept verbatim, bad rows quarantined, episodes and children kept true.

One job per module:

* ``files``: one feed file, judged as a whole too (refused, or without rows) so a bad file never stops the rest;
* ``rows``: the unit of work, a stream of rows stored chunk by chunk (one transaction each);
* ``chunks``: a chunk's rows validated against the feed contract, bad ones shaped for quarantine;
* ``messages``: messages kept verbatim and keyed, conflicting replays quarantined;
* ``register``: the child register snapshot applied to the children it describes;
* ``matching``: which child a message is about (person id, exact name and birth date, or new for MASH);
* ``incidents``: police notifications folded into episodes, risk history and the contact log;
* ``outcomes``: case outcomes stored against their children;
* ``statistics``: PostgreSQL's planner statistics kept in step with a big load;
* ``summary``: the counts a run reports.
"""

from missing_episodes.ingest.files import ingest_file
from missing_episodes.ingest.incidents import refold_incidents
from missing_episodes.ingest.rows import ingest_rows, known_outcome_events
from missing_episodes.ingest.summary import IngestSummary

__all__ = ["IngestSummary", "ingest_file", "ingest_rows", "known_outcome_events", "refold_incidents"]
