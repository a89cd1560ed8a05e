"""Webhook endpoints and their delivery log as the API reads and writes them."""

from __future__ import annotations

import uuid
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field

from stockroom.events.rules import EVENT_TYPES, EventType
from stockroom.fields import Text, Timestamp

# "*" subscribes to every event type of the contract.
EventTypeName = Literal["*", EventType]
MAX_URL = 2048
Url = Annotated[
    Text,
    Field(
        min_length=1,
        max_length=MAX_URL,
        description="http(s) URL that receives the POSTs; loopback, private and link-local "
        "addresses are refused unless STOCKROOM_WEBHOOK_ALLOW_PRIVATE=true.",
        examples=["https://shop.example.com/hooks/stockroom"],
    ),
]
EventTypes = Annotated[
    list[EventTypeName],
    Field(
        min_length=1,
        max_length=len(EVENT_TYPES) + 1,
        description='Event types to send; `["*"]` for every type.',
    ),
]
DeliveryStatus = Literal["pending", "delivered", "failed"]


class WebhookCreate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url
    events: EventTypes
    description: Text | None = Field(None, max_length=1000)


class WebhookUpdate(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: Url | None = None
    events: EventTypes | None = None
    enabled: bool | None = Field(
        None, strict=True, description="false stops sending; true resumes where it stopped."
    )
    description: Text | None = Field(None, max_length=1000)


class Webhook(BaseModel):
    id: uuid.UUID
    url: str
    events: list[str]
    description: str | None
    enabled: bool
    disabled_reason: str | None = Field(
        description="Why the service disabled it (5 days of failed deliveries), else null."
    )
    failing_since: Timestamp | None = Field(
        description="Since when every attempt has failed; null when the last one succeeded."
    )
    created_at: Timestamp
    updated_at: Timestamp


class WebhookWithSecret(Webhook):
    secret: str = Field(
        description="The Standard Webhooks signing secret (`whsec_...`): shown only now."
    )


class Attempt(BaseModel):
    attempted_at: Timestamp
    status_code: int | None = Field(description="The receiver's HTTP status; null: no answer.")
    duration_ms: int
    error: str | None = Field(description="Why the attempt failed; null when it succeeded.")


class Delivery(BaseModel):
    id: uuid.UUID
    event_id: uuid.UUID = Field(description="Also the `webhook-id` header of every attempt.")
    event_type: str
    status: DeliveryStatus
    attempt_count: int
    next_attempt_at: Timestamp | None = Field(description="When pending: the next attempt.")
    delivered_at: Timestamp | None
    created_at: Timestamp
    attempts: list[Attempt] = Field(description="Every attempt, oldest first.")
