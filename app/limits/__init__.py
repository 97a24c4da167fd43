"""Abuse limits: the rules, the counter port and its SQL and Redis counters."""
