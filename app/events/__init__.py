"""Event buses and the live status stream."""
