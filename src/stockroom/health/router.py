"""`/healthz` (the process answers) and `/readyz` (and its database does): for load balancers."""

from __future__ import annotations

from fastapi import APIRouter, Request
from sqlalchemy import text

router = APIRouter(tags=["Health"])


@router.get("/healthz", operation_id="getHealth", summary="Process is up")
async def healthz() -> dict[str, str]:
    """Answers as long as the process serves requests; touches no database."""
    return {"status": "ok"}


@router.get(
    "/readyz",
    operation_id="getReadiness",
    summary="Database is reachable",
    responses={503: {"description": "The database does not answer (`unavailable`)."}},
)
async def readyz(request: Request) -> dict[str, str]:
    """Runs `SELECT 1` on the database; 503 `unavailable` when it cannot."""
    async with request.app.state.engine.connect() as conn:
        await conn.execute(text("SELECT 1"))
    return {"status": "ready"}
