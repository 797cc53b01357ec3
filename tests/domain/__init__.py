"""The domain package ``missing_episodes`` without Prefect: clock, policy, triggers, rules, ingest, the store, the
worklist, documents and returns. Nothing here imports Prefect, ``tasks``, ``flows`` or ``deployments``
(tests/test_layers.py checks), so ``pytest tests/domain`` never pays for Prefect's start-up."""
