"""The ASGI application: routers, error handlers and the database lifespan — nothing else."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

from fastapi import FastAPI

from stockroom.adjustments.router import router as adjustments_router
from stockroom.auth.token_cache import TOKEN_CACHE
from stockroom.catalog.router import router as catalog_router
from stockroom.counts.router import router as counts_router
from stockroom.dashboard.router import router as dashboard_router
from stockroom.db.engine import create_engine, create_sessionmaker
from stockroom.db.replica import ReplicaLag, create_read_engine, read_sessionmaker
from stockroom.events.router import router as events_router
from stockroom.health.router import router as health_router
from stockroom.http.errors import install_error_handlers
from stockroom.initial_stock.router import router as initial_stock_router
from stockroom.invoices.router import router as invoices_router
from stockroom.movements.router import router as movements_router
from stockroom.observability.middleware import RequestObservability
from stockroom.observability.router import router as metrics_router
from stockroom.openapi import install_openapi
from stockroom.pipeline import RequestPipeline
from stockroom.purchases.router import router as purchases_router
from stockroom.reservations.router import router as reservations_router
from stockroom.settings import Settings, get_settings
from stockroom.sites.router import router as sites_router
from stockroom.stock.router import router as stock_router
from stockroom.transfers.router import router as transfers_router
from stockroom.users.router import router as users_router
from stockroom.valuation.router import router as valuation_router
from stockroom.webhooks.router import router as webhooks_router
from stockroom.worker import run_worker

ROUTERS = [
    adjustments_router,
    transfers_router,
    initial_stock_router,
    stock_router,
    valuation_router,
    reservations_router,
    counts_router,
    movements_router,
    invoices_router,
    purchases_router,
    events_router,
    catalog_router,
    sites_router,
    users_router,
    webhooks_router,
    health_router,
    dashboard_router,
    metrics_router,
]


def create_app(settings: Settings | None = None) -> FastAPI:
    settings = settings or get_settings()

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        engine = create_engine(settings)
        app.state.engine = engine
        app.state.sessionmaker = create_sessionmaker(engine)
        stop = asyncio.Event()
        worker = None
        if settings.worker_in_process:
            worker = asyncio.create_task(
                run_worker(
                    app.state.sessionmaker,
                    interval_seconds=settings.worker_interval_seconds,
                    stop=stop,
                    settings=settings,
                )
            )
        # The replica (STOCKROOM_READ_DATABASE_URL) for lists, reports and CSV exports;
        # without one, those read the primary. See stockroom.db.replica.
        read_engine = create_read_engine(settings)
        app.state.read_engine = read_engine or engine
        app.state.read_sessionmaker = read_sessionmaker(read_engine)
        app.state.replica_lag = (
            ReplicaLag(engine, read_engine, settings.read_max_lag_seconds)
            if read_engine is not None
            else None
        )
        try:
            yield
        finally:
            stop.set()
            if worker is not None:
                await worker
            await engine.dispose()
            if read_engine is not None:
                await read_engine.dispose()

    app = FastAPI(
        title="Stockroom",
        version="0.1.0",
        summary="Multi-tenant inventory: stock levels from an append-only ledger.",
        lifespan=lifespan,
    )
    app.state.settings = settings
    TOKEN_CACHE.ttl_seconds = settings.auth_cache_seconds
    install_error_handlers(app)
    install_openapi(app)
    # HEAD, authentication, body guards, the request's transaction, Idempotency-Key.
    app.add_middleware(RequestPipeline, max_body_bytes=settings.max_body_bytes)
    app.add_middleware(RequestObservability)  # outermost: ids, times and counts every request
    for router in ROUTERS:
        app.include_router(router)
    return app
