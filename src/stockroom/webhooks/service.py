"""Webhook endpoints of a brand (admin): create, read, change, delete, rotate; the delivery log."""

from __future__ import annotations

import uuid
from collections import defaultdict
from typing import Any

from sqlalchemy import delete, func, select
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal
from stockroom.auth.scope import brand_scoped
from stockroom.db.models import Event, WebhookAttempt, WebhookDelivery, WebhookEndpoint
from stockroom.db.models.base import utcnow
from stockroom.errors import NotFound, ValidationFailed, field_error
from stockroom.pagination import PageMeta, PageParams, fetch_page
from stockroom.settings import Settings
from stockroom.webhooks.addresses import Policy
from stockroom.webhooks.schemas import WebhookCreate, WebhookUpdate
from stockroom.webhooks.secrets import encrypt_secret, new_secret
from stockroom.webhooks.targets import TargetRefused, resolve_target


def policy_of(settings: Settings) -> Policy:
    return Policy(
        allow_private=settings.webhook_allow_private,
        loopback_only=settings.webhook_loopback_only,
    )


async def check_url(url: str, settings: Settings) -> None:
    """422 on `url` unless it is http(s) and every address it resolves to may be sent to."""
    try:
        await resolve_target(url, policy_of(settings))
    except TargetRefused as exc:
        raise ValidationFailed(
            "The webhook URL is not allowed.", [field_error("url", str(exc))]
        ) from None


def _event_types(events: list[str]) -> list[str]:
    if "*" in events and len(events) > 1:
        raise ValidationFailed(
            'Subscribe to every type with ["*"] alone.',
            [field_error("events", '"*" cannot be combined with other types')],
        )
    return sorted(set(events))


def endpoint_view(row: WebhookEndpoint) -> dict[str, Any]:
    return {
        "id": row.id,
        "url": row.url,
        "events": list(row.event_types),
        "description": row.description,
        "enabled": row.enabled,
        "disabled_reason": row.disabled_reason,
        "failing_since": row.failing_since,
        "created_at": row.created_at,
        "updated_at": row.updated_at,
    }


async def _last_position(session: AsyncSession, brand_id: uuid.UUID) -> int:
    query = select(func.max(Event.position)).where(Event.brand_id == brand_id)
    return int((await session.execute(query)).scalar_one() or 0)


async def create_webhook(
    session: AsyncSession, principal: Principal, body: WebhookCreate, settings: Settings
) -> dict[str, Any]:
    """A new endpoint that receives the events recorded from now on; its secret, once."""
    await check_url(body.url, settings)
    secret = new_secret()
    now = utcnow()
    row = WebhookEndpoint(
        brand_id=principal.brand_id,
        url=body.url,
        description=body.description,
        event_types=_event_types(list(body.events)),
        enabled=True,
        secret_encrypted=encrypt_secret(settings, secret),
        event_position=await _last_position(session, principal.brand_id),
        created_at=now,
        updated_at=now,
    )
    session.add(row)
    await session.flush()
    return endpoint_view(row) | {"secret": secret}


async def _endpoint(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, *, lock: bool = False
) -> WebhookEndpoint:
    query = brand_scoped(WebhookEndpoint, principal).where(WebhookEndpoint.id == webhook_id)
    if lock:
        query = query.with_for_update()
    row = (await session.execute(query)).scalar_one_or_none()
    if row is None:
        raise NotFound("No such webhook.")
    return row


async def get_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> dict[str, Any]:
    return endpoint_view(await _endpoint(session, principal, webhook_id))


async def list_webhooks(
    session: AsyncSession, principal: Principal, paging: PageParams
) -> tuple[list[dict[str, Any]], PageMeta]:
    query = brand_scoped(WebhookEndpoint, principal).order_by(
        WebhookEndpoint.created_at.desc(), WebhookEndpoint.id.desc()
    )
    rows, meta = await fetch_page(session, query, paging)
    return [endpoint_view(r) for r in rows], meta


async def update_webhook(
    session: AsyncSession,
    principal: Principal,
    webhook_id: uuid.UUID,
    body: WebhookUpdate,
    settings: Settings,
) -> dict[str, Any]:
    """Change url, events, description or enabled; enabling again clears the failure state."""
    row = await _endpoint(session, principal, webhook_id, lock=True)
    if body.url is not None:
        await check_url(body.url, settings)
        row.url = body.url
    if body.events is not None:
        row.event_types = _event_types(list(body.events))
    if "description" in body.model_fields_set:
        row.description = body.description
    if body.enabled is not None and body.enabled != row.enabled:
        row.enabled = body.enabled
        if body.enabled:
            row.disabled_reason = None
            row.failing_since = None
    row.updated_at = utcnow()
    await session.flush()
    return endpoint_view(row)


async def delete_webhook(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID
) -> None:
    """The endpoint, its queue and its log go; nothing more is sent to it."""
    row = await _endpoint(session, principal, webhook_id, lock=True)
    for model in (WebhookAttempt, WebhookDelivery):
        await session.execute(
            delete(model)
            .where(model.brand_id == principal.brand_id, model.endpoint_id == row.id)
            .execution_options(synchronize_session=False)
        )
    await session.delete(row)
    await session.flush()


async def rotate_secret(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, settings: Settings
) -> dict[str, Any]:
    """A new secret, shown once; every request from now on is signed with it only."""
    row = await _endpoint(session, principal, webhook_id, lock=True)
    secret = new_secret()
    row.secret_encrypted = encrypt_secret(settings, secret)
    row.updated_at = utcnow()
    await session.flush()
    return endpoint_view(row) | {"secret": secret}


def _delivery_view(row: WebhookDelivery, attempts: list[WebhookAttempt]) -> dict[str, Any]:
    return {
        "id": row.id,
        "event_id": row.event_id,
        "event_type": row.event_type,
        "status": row.status,
        "attempt_count": row.attempt_count,
        "next_attempt_at": row.next_attempt_at if row.status == "pending" else None,
        "delivered_at": row.delivered_at,
        "created_at": row.created_at,
        "attempts": [
            {
                "attempted_at": a.attempted_at,
                "status_code": a.status_code,
                "duration_ms": a.duration_ms,
                "error": a.error,
            }
            for a in attempts
        ],
    }


async def list_deliveries(
    session: AsyncSession,
    principal: Principal,
    webhook_id: uuid.UUID,
    paging: PageParams,
    *,
    status: str | None = None,
) -> tuple[list[dict[str, Any]], PageMeta]:
    """The endpoint's deliveries, newest event first, each with its attempts."""
    endpoint = await _endpoint(session, principal, webhook_id)
    query = brand_scoped(WebhookDelivery, principal).where(
        WebhookDelivery.endpoint_id == endpoint.id
    )
    if status is not None:
        query = query.where(WebhookDelivery.status == status)
    query = query.order_by(WebhookDelivery.event_position.desc())
    rows, meta = await fetch_page(session, query, paging)
    attempts: dict[uuid.UUID, list[WebhookAttempt]] = defaultdict(list)
    if rows:
        found = await session.execute(
            brand_scoped(WebhookAttempt, principal)
            .where(WebhookAttempt.delivery_id.in_([r.id for r in rows]))
            .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
        )
        for attempt in found.scalars():
            attempts[attempt.delivery_id].append(attempt)
    return [_delivery_view(r, attempts[r.id]) for r in rows], meta


async def retry_delivery(
    session: AsyncSession, principal: Principal, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> dict[str, Any]:
    """Send a delivery again now (a new series of attempts), whatever its status.

    A pending one has its next attempt brought forward. A delivered or failed one gets one more
    attempt, outside the queue's order (the queue does not wait for it): it ends delivered, or
    failed again.
    """
    endpoint = await _endpoint(session, principal, webhook_id)
    row = (
        await session.execute(
            brand_scoped(WebhookDelivery, principal)
            .where(WebhookDelivery.endpoint_id == endpoint.id, WebhookDelivery.id == delivery_id)
            .with_for_update()
        )
    ).scalar_one_or_none()
    if row is None:
        raise NotFound("No such delivery.")
    if row.status == "pending":
        row.next_attempt_at = utcnow()
    else:
        row.status, row.manual, row.next_attempt_at = "pending", True, utcnow()
    await session.flush()
    attempts = await session.execute(
        brand_scoped(WebhookAttempt, principal)
        .where(WebhookAttempt.delivery_id == row.id)
        .order_by(WebhookAttempt.attempted_at, WebhookAttempt.id)
    )
    return _delivery_view(row, list(attempts.scalars()))
