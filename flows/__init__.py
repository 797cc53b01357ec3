"""Prefect flows: compose the tasks. Parameters, run names and logs carry pseudonymous ids, never names."""
