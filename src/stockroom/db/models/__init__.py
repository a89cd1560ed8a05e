"""Every table, importable from one place (Alembic reads `Base.metadata` from here)."""

from stockroom.db.models.base import Base
from stockroom.db.models.catalog import Product
from stockroom.db.models.commerce import Invoice, InvoiceLine, Purchase
from stockroom.db.models.counts import StockCount, StockCountLine, StockCountProduct
from stockroom.db.models.events import Event
from stockroom.db.models.idempotency import IdempotencyKey
from stockroom.db.models.ledger import (
    NO_LOCATION,
    SiteShortfall,
    StockLevel,
    StockLevelDay,
    StockMovement,
)
from stockroom.db.models.reservations import Reservation, ReservationLine
from stockroom.db.models.tenancy import ApiToken, Brand, Location, Site, User, UserSite
from stockroom.db.models.transfers import Transfer, TransferLine
from stockroom.db.models.webhooks import WebhookAttempt, WebhookDelivery, WebhookEndpoint

__all__ = [
    "NO_LOCATION",
    "ApiToken",
    "Base",
    "Brand",
    "Event",
    "IdempotencyKey",
    "Invoice",
    "InvoiceLine",
    "Location",
    "Product",
    "Purchase",
    "Reservation",
    "ReservationLine",
    "Site",
    "SiteShortfall",
    "StockCount",
    "StockCountLine",
    "StockCountProduct",
    "StockLevel",
    "StockLevelDay",
    "StockMovement",
    "Transfer",
    "TransferLine",
    "User",
    "UserSite",
    "WebhookAttempt",
    "WebhookDelivery",
    "WebhookEndpoint",
]
