"""Observability: request ids, one JSON log line per request, and Prometheus metrics.

    middleware.py  RequestObservability — the outermost pure ASGI middleware: request id in
                   and out (`X-Request-Id`), timing, the access log line, request metrics
    context.py     the request being served (id, brand) in a context variable
    logs.py        the JSON log format and the logging config `stockroom serve` hands uvicorn
    metrics.py     the Prometheus metrics, their exposition (multiprocess-aware), and the
                   ledger's counters (movements written by type, insufficient-stock refusals)
    router.py      GET /metrics

Nothing here imports the ledger; the ledger imports only `metrics` (no FastAPI).
"""
