"""The dashboard: server-rendered pages for people, signed in with an API token.

Four parts: `templating` (Jinja2 with autoescape, rendering, the security headers, the
static assets), `session` (the sign-in cookie, sign-in and sign-out with their CSRF checks,
errors as pages: see its docstring), `pages` (what a signed-in user sees) and `webhooks`
(the admins' webhooks page).
"""

from __future__ import annotations

from fastapi import APIRouter

from stockroom.dashboard import pages, session, webhooks

router = APIRouter(include_in_schema=False)
router.include_router(session.router)
router.include_router(pages.router)
router.include_router(webhooks.router)
