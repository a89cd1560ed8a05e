"""Idempotency-Key: a POST runs once; retries replay its stored status and body."""
