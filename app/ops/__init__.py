"""Operations: health checks, metrics, the observer port, logs and their filter."""
