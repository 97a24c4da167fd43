"""Alembic migrations of the store's schema; run them with `reverse-otp db upgrade`."""
