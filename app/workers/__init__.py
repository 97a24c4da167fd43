"""Background work inside a server process: expiry, purge and callback delivery."""
