"""``python -m bench``: the same as ``bench/run``."""

from bench.runner import main

raise SystemExit(main())
