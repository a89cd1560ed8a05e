"""`/products`: to be built (see the issue that owns it)."""

from __future__ import annotations

from fastapi import APIRouter

router = APIRouter(tags=["Products"])
