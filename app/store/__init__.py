"""Storage: the port and its SQL implementation."""
