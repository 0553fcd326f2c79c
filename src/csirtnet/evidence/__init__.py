"""Evidence files addressed by SHA-256 and their chain of custody (RFC 3227)."""
