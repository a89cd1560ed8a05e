"""The event outbox (stand-in on branch `webhooks`: the `events` branch provides the real one)."""
