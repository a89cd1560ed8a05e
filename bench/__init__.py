"""`make bench`: the API against the raw-SQL limit, on PostgreSQL and SQLite (see BENCHMARKS.md)."""
