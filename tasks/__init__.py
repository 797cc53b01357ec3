"""Prefect tasks: thin, retryable wrappers over ``missing_episodes.service``; they return ids and counts only."""
