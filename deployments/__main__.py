"""``python -m deployments``: see ``deployments.apply.main``."""

from deployments.apply import main

raise SystemExit(main())
