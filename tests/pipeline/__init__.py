"""The Prefect layer without a real server: tasks through ``.fn()``, the private-task wrapper and its error messages,
the coordinators' forms as flow parameters, flows on Prefect's test harness (``prefect_harness`` in
tests/conftest.py, marked ``prefect``), and the deployments as built objects."""
