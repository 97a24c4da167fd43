"""The pure core: no web framework, database, HTTP client or cache in here."""
