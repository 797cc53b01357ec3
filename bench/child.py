"""``python -m bench.child module:function '{json kwargs}'``: run one side of a benchmark and print its timing.

The function does its own set-up and returns ``(seconds, result)``: it times only the work being compared, so
set-up (copying a database, importing WeasyPrint) is never counted against either side.
"""

from __future__ import annotations

import importlib
import json
import sys


def main() -> None:
    target, raw = sys.argv[1], sys.argv[2]
    module_name, function_name = target.split(":")
    function = getattr(importlib.import_module(module_name), function_name)
    seconds, result = function(**json.loads(raw))
    sys.stdout.flush()
    print("BENCH-RESULT " + json.dumps({"seconds": seconds, "result": result}, default=str), flush=True)


if __name__ == "__main__":
    main()
