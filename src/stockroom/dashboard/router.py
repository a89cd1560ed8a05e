"""The dashboard: server-rendered pages for people, signed in with an API token.

Its parts: `templating` (Jinja2 with autoescape, rendering, the security headers, the
static assets), `session` (the sign-in cookie, sign-in and sign-out with their CSRF checks,
errors as pages: see its docstring), `pages` (what a signed-in user reads), `forms` (how a
write form is posted: CSRF token, Idempotency-Key, errors in place) and the write forms:
`moves` (adjust, transfer, receive), `shipments` (transfers in transit: receive,
close), `counting` (counts) and `sales` (release a reservation, void an invoice), each
calling the API's own service functions; and `webhooks` (the admins' webhooks page).
"""

from __future__ import annotations

from fastapi import APIRouter

from stockroom.dashboard import counting, moves, pages, sales, session, shipments, webhooks

router = APIRouter(include_in_schema=False)
router.include_router(session.router)
router.include_router(pages.router)
router.include_router(webhooks.router)
router.include_router(moves.router)
router.include_router(counting.router)
router.include_router(sales.router)
router.include_router(shipments.router)
