"""Prefect tasks: one per job of ``missing_episodes.jobs`` (the module names match), each declared with
``tasks.privacy.private_task``; they return ids, refs, counts and paths only."""
