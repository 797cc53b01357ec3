"""Tests on a real Prefect server (``prefect server start``), and what they share: the stack, the leak search."""
