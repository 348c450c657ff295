"""Built-in audit data: impact scores of failure modes (package data)."""
