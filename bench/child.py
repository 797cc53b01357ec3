"""``python -m bench.child module:function '{json kwargs}'``: run one side of a benchmark and print its timing.

The function does its own set-up and returns ``(seconds, result)``: it times only the work being compared, so
set-up (copying a database, importing WeasyPrint) is never counted against either side.
"""

from __future__ import annotations

import importlib
import json
import sys
import time
from pathlib import Path

#: Every side's timing is also appended here, so a run stopped before its table (a deadline, a later benchmark
#: failing) keeps what it measured.
JOURNAL = Path(__file__).resolve().parent / "work" / "journal.jsonl"


def main() -> None:
    target, raw = sys.argv[1], sys.argv[2]
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    seconds, result = function(**json.loads(raw))
    sys.stdout.flush()
    line = json.dumps({"seconds": seconds, "result": result}, default=str)
    JOURNAL.parent.mkdir(parents=True, exist_ok=True)
    with JOURNAL.open("a", encoding="utf-8") as journal:
        entry = {"at": time.strftime("%Y-%m-%dT%H:%M:%S"), "target": target, "kwargs": json.loads(raw)}
        journal.write(json.dumps({**entry, "seconds": seconds, "result": result}, default=str) + "\n")
    print("BENCH-RESULT " + line, flush=True)


if __name__ == "__main__":
    main()
