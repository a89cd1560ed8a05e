"""The dashboard: server-rendered pages for people at `/`, signed in with an API token."""
