"""`/products`: the brand's catalogue. Everyone reads it; only admins change it."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import APIRouter, Query

from stockroom.auth.dependencies import CurrentPrincipal, Session
from stockroom.catalog import service
from stockroom.catalog.schemas import Product, ProductCreate, ProductUpdate
from stockroom.fields import QueryText
from stockroom.http.errors import error_responses
from stockroom.pagination import Page, Paging

router = APIRouter(prefix="/products", tags=["Products"])


@router.get(
    "",
    operation_id="listProducts",
    summary="List products",
    response_model=Page[Product],
    responses=error_responses(401, 422),
)
async def list_products(
    session: Session,
    principal: CurrentPrincipal,
    paging: Paging,
    q: Annotated[
        QueryText | None,
        Query(max_length=200, description="Part of the name or SKU, any letter case."),
    ] = None,
    sku: Annotated[QueryText | None, Query(max_length=64, description="Exactly this SKU.")] = None,
    archived: Annotated[
        bool, Query(description="`true` lists the archived products instead of the live ones.")
    ] = False,
) -> Page[Product]:
    """The catalogue, sorted by SKU; archived products are left out unless asked for."""
    rows, meta = await service.list_products(
        session, principal, paging, q=q, sku=sku, archived=archived
    )
    return Page[Product](data=[Product.model_validate(r) for r in rows], meta=meta)


@router.post(
    "",
    operation_id="createProduct",
    summary="Create a product",
    status_code=201,
    response_model=Product,
    responses=error_responses(401, 403, 422),
)
async def create_product(
    session: Session, principal: CurrentPrincipal, body: ProductCreate
) -> Product:
    """Add a product to the catalogue (admin). The SKU must be unused in the brand."""
    principal.require_admin()
    product = await service.create_product(session, principal.brand_id, **body.model_dump())
    return Product.model_validate(product)


@router.get(
    "/{product_id}",
    operation_id="getProduct",
    summary="Get a product",
    response_model=Product,
    responses=error_responses(401, 404),
)
async def get_product(
    session: Session, principal: CurrentPrincipal, product_id: uuid.UUID
) -> Product:
    """One product of your brand, archived or not."""
    return Product.model_validate(await service.get_product(session, principal, product_id))


@router.patch(
    "/{product_id}",
    operation_id="updateProduct",
    summary="Update a product",
    response_model=Product,
    responses=error_responses(401, 403, 404, 422),
)
async def update_product(
    session: Session, principal: CurrentPrincipal, product_id: uuid.UUID, body: ProductUpdate
) -> Product:
    """Change the fields sent (admin). `location_aware` cannot change once the product has
    stock movements; `archived: false` brings an archived product back."""
    principal.require_admin()
    product = await service.update_product(
        session, principal, product_id, body.model_dump(exclude_unset=True)
    )
    return Product.model_validate(product)


@router.delete(
    "/{product_id}",
    operation_id="archiveProduct",
    summary="Archive a product",
    response_model=Product,
    responses=error_responses(401, 403, 404),
)
async def archive_product(
    session: Session, principal: CurrentPrincipal, product_id: uuid.UUID
) -> Product:
    """Archive the product (admin): it leaves the catalogue list, its stock history stays.
    Answers with the product, `archived: true`; archiving twice is harmless."""
    principal.require_admin()
    return Product.model_validate(await service.archive_product(session, principal, product_id))
