"""`/metrics`: Prometheus exposition of the service's metrics (see `metrics.py`)."""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from stockroom.observability.metrics import render_metrics

router = APIRouter(tags=["Health"])


# Left out of the OpenAPI document: it is for the scraper, not for integrators. It carries no
# tenant data, but keep it off the public internet (see docs/running.md).
@router.get("/metrics", include_in_schema=False)
def metrics() -> Response:
    """Prometheus text exposition (plain `def`: a scrape reads files in multiprocess mode)."""
    body, content_type = render_metrics()
    return Response(body, media_type=content_type)
