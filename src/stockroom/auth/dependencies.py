"""FastAPI dependencies: the request's session, its caller, and what it says of its current site.

`bearer_token` and `load_principal` live in `auth/tokens.py` (re-exported here for callers
that import them from this module).
"""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Depends, Header, Query, Request, Response
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.current_site import SiteChoice, explicit_site
from stockroom.auth.principal import PRINCIPAL_STATE, Principal
from stockroom.auth.tokens import bearer_token as bearer_token
from stockroom.auth.tokens import load_principal as load_principal
from stockroom.db.session import get_core_session, get_session, request_transaction
from stockroom.http.params import WorkspaceAliasQuery
from stockroom.ratelimit import enforce_rate_limit

Session = Annotated[AsyncSession, Depends(get_session, scope="function")]
# For routes that run Core statements only (no ORM object left pending): see get_core_session.
CoreSession = Annotated[AsyncSession, Depends(get_core_session)]


async def get_principal(request: Request, response: Response) -> Principal:
    """The caller, as the request pipeline authenticated it (before reading the body), held
    to its token's rate limit (after authentication: 401 comes first)."""
    token = bearer_token(request.headers.get("authorization"))
    principal = request.scope.get("state", {}).get(PRINCIPAL_STATE)
    if not isinstance(principal, Principal):
        session = await request_transaction(request).session()
        principal = await load_principal(session, token)
    await enforce_rate_limit(request, response, token)
    return principal


CurrentPrincipal = Annotated[Principal, Depends(get_principal)]


SiteHeader = Annotated[
    uuid.UUID | None,
    Header(alias="x-site-id", description="Current site when the body or query names none."),
]


async def site_choice(
    x_site_id: SiteHeader = None,
    site_id: Annotated[
        uuid.UUID | None,
        Query(
            description="Current site (alias `workspace_id`); the body's `site_id` wins "
            "over `X-Site-Id` too, and must equal this one when both are given."
        ),
    ] = None,
    workspace_id: WorkspaceAliasQuery = None,
) -> SiteChoice:
    return SiteChoice(
        query=explicit_site(site_id, workspace_id, field="workspace_id"), header=x_site_id
    )


CurrentSiteChoice = Annotated[SiteChoice, Depends(site_choice)]
