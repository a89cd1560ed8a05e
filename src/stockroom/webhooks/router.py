"""`/webhooks`: a brand's webhook endpoints and their delivery log (admins only)."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Body, Query, Request, Response

from stockroom.auth.dependencies import CurrentPrincipal, Session
from stockroom.http.errors import error_responses
from stockroom.idempotency.calls import seal_stored_answer
from stockroom.pagination import Page, Paging
from stockroom.settings import Settings
from stockroom.webhooks import service
from stockroom.webhooks.schemas import (
    Delivery,
    DeliveryStatus,
    Webhook,
    WebhookCreate,
    WebhookUpdate,
    WebhookWithSecret,
)

router = APIRouter(prefix="/webhooks", tags=["Webhooks"])

CREATE_EXAMPLES: dict[str, Any] = {
    "every": {
        "summary": "Every event",
        "value": {"url": "https://shop.example.com/hooks/stockroom", "events": ["*"]},
    },
    "some": {
        "summary": "Low stock only",
        "value": {
            "url": "https://buyer.example.com/stockroom",
            "events": ["stock.low", "stock.replenished"],
            "description": "Reorder alerts",
        },
    },
}

UPDATE_EXAMPLES: dict[str, Any] = {
    "pause": {"summary": "Stop sending for now", "value": {"enabled": False}},
    "move": {
        "summary": "A new URL and fewer events",
        "value": {"url": "https://erp.example.com/stockroom", "events": ["invoice.created"]},
    },
}


def _settings(request: Request) -> Settings:
    settings: Settings = request.app.state.settings
    return settings


def _answer_carries_secret(request: Request, response: Response) -> None:
    """The answer shows a secret: no cache keeps it, and an Idempotency-Key stores it
    encrypted (replayed to the same request within 24 h, never kept as plaintext)."""
    response.headers["Cache-Control"] = "no-store"
    seal_stored_answer(request.scope)


@router.get(
    "",
    operation_id="listWebhooks",
    summary="List webhook endpoints",
    response_model=Page[Webhook],
    responses=error_responses(401, 403, 422),
)
async def list_webhooks(
    session: Session, principal: CurrentPrincipal, paging: Paging
) -> Page[Webhook]:
    """The brand's webhook endpoints, newest first (admin); secrets are never shown again."""
    principal.require_admin()
    rows, meta = await service.list_webhooks(session, principal, paging)
    return Page[Webhook](data=[Webhook.model_validate(r) for r in rows], meta=meta)


@router.post(
    "",
    operation_id="createWebhook",
    summary="Create a webhook endpoint",
    status_code=201,
    response_model=WebhookWithSecret,
    responses=error_responses(401, 403, 422),
)
async def create_webhook(
    request: Request,
    response: Response,
    session: Session,
    principal: CurrentPrincipal,
    body: Annotated[WebhookCreate, Body(openapi_examples=CREATE_EXAMPLES)],
) -> WebhookWithSecret:
    """Send the brand's events from now on to `url` (admin). The answer carries the signing
    `secret` (Standard Webhooks, `whsec_...`): it is shown this once. A URL that is not
    http(s), or whose host is or resolves to a loopback, private, link-local or reserved
    address, is refused with 422 (unless STOCKROOM_WEBHOOK_ALLOW_PRIVATE=true). Retried
    with the same Idempotency-Key, it answers the same secret (stored encrypted)."""
    principal.require_admin()
    _answer_carries_secret(request, response)
    return WebhookWithSecret.model_validate(
        await service.create_webhook(session, principal, body, _settings(request))
    )


@router.get(
    "/{webhook_id}",
    operation_id="getWebhook",
    summary="Get a webhook endpoint",
    response_model=Webhook,
    responses=error_responses(401, 403, 404, 422),
)
async def get_webhook(
    session: Session, principal: CurrentPrincipal, webhook_id: uuid.UUID
) -> Webhook:
    """One endpoint (admin), without its secret."""
    principal.require_admin()
    return Webhook.model_validate(await service.get_webhook(session, principal, webhook_id))


@router.patch(
    "/{webhook_id}",
    operation_id="updateWebhook",
    summary="Change a webhook endpoint",
    response_model=Webhook,
    responses=error_responses(401, 403, 404, 422),
)
async def update_webhook(
    request: Request,
    session: Session,
    principal: CurrentPrincipal,
    webhook_id: uuid.UUID,
    body: Annotated[WebhookUpdate, Body(openapi_examples=UPDATE_EXAMPLES)],
) -> Webhook:
    """Change `url`, `events`, `description` or `enabled` (admin). `"enabled": false` stops
    sending; `true` resumes with the first event not yet sent (nothing is skipped) and
    clears a disabling for failures. A new URL is checked like at creation."""
    principal.require_admin()
    return Webhook.model_validate(
        await service.update_webhook(session, principal, webhook_id, body, _settings(request))
    )


@router.delete(
    "/{webhook_id}",
    operation_id="deleteWebhook",
    summary="Delete a webhook endpoint",
    status_code=204,
    response_class=Response,
    responses=error_responses(401, 403, 404, 422),
)
async def delete_webhook(
    session: Session, principal: CurrentPrincipal, webhook_id: uuid.UUID
) -> Response:
    """Delete the endpoint with its queue and delivery log (admin); nothing more is sent."""
    principal.require_admin()
    await service.delete_webhook(session, principal, webhook_id)
    return Response(status_code=204)


@router.post(
    "/{webhook_id}/rotate-secret",
    operation_id="rotateWebhookSecret",
    summary="Rotate a webhook endpoint's secret",
    response_model=WebhookWithSecret,
    responses=error_responses(401, 403, 404, 422),
)
async def rotate_secret(
    request: Request,
    response: Response,
    session: Session,
    principal: CurrentPrincipal,
    webhook_id: uuid.UUID,
) -> WebhookWithSecret:
    """A new signing secret, shown this once (admin); requests from now on are signed with it
    only (the old one stops verifying). Retried with the same Idempotency-Key, it answers
    the same secret (stored encrypted) and rotates nothing."""
    principal.require_admin()
    _answer_carries_secret(request, response)
    return WebhookWithSecret.model_validate(
        await service.rotate_secret(session, principal, webhook_id, _settings(request))
    )


@router.get(
    "/{webhook_id}/deliveries",
    operation_id="listWebhookDeliveries",
    summary="List an endpoint's deliveries",
    response_model=Page[Delivery],
    responses=error_responses(401, 403, 404, 422),
)
async def list_deliveries(
    session: Session,
    principal: CurrentPrincipal,
    webhook_id: uuid.UUID,
    paging: Paging,
    status: Annotated[DeliveryStatus | None, Query(description="Only this status.")] = None,
) -> Page[Delivery]:
    """The delivery log (admin), newest event first: each event queued for the endpoint, its
    status, and every attempt with the receiver's status code, duration and error."""
    principal.require_admin()
    rows, meta = await service.list_deliveries(
        session, principal, webhook_id, paging, status=status
    )
    return Page[Delivery](data=[Delivery.model_validate(r) for r in rows], meta=meta)


@router.post(
    "/{webhook_id}/deliveries/{delivery_id}/retry",
    operation_id="retryWebhookDelivery",
    summary="Retry a delivery",
    response_model=Delivery,
    responses=error_responses(401, 403, 404, 422),
)
async def retry_delivery(
    session: Session, principal: CurrentPrincipal, webhook_id: uuid.UUID, delivery_id: uuid.UUID
) -> Delivery:
    """Send a delivery again now (admin): a pending one's next attempt is brought forward; a
    delivered or failed one gets one more attempt, outside the queue's order."""
    principal.require_admin()
    return Delivery.model_validate(
        await service.retry_delivery(session, principal, webhook_id, delivery_id)
    )
