"""The dashboard: server-rendered pages for people, signed in with an API token.

Sign-in: `/` asks for a token; `POST /sign-in` checks it with `load_principal` and sets it
as a cookie (HttpOnly, SameSite=Strict, Secure when served over https). Every page
resolves the cookie again, so a revoked token ends the session on the next click (back to
sign-in, with a message); `POST /sign-out` clears it.

CSRF: the cookie authenticates only these pages, which are GETs that change nothing, plus
the sign-in and sign-out POSTs; the JSON API reads the Authorization header alone, so a
cookie can never authorize a stock change. SameSite=Strict keeps the cookie off cross-site
requests. Sign-in and sign-out also require an Origin header (or, when a browser sends
none, a Referer) naming this host: a forged sign-in would otherwise put the victim into
the attacker's brand ("login CSRF"), and a forged sign-out is a nuisance.

Errors become HTML pages (DashboardRoute), never the API's JSON: another brand's or an
unknown product is a 404 page, an expired session a redirect to sign-in. Templates are
Jinja2 with autoescape on; every response carries a strict Content-Security-Policy (no
script at all, styles only from this server).

The parts: `templating` (Jinja2, rendering, headers, assets), `session` (cookie, sign-in and
sign-out, errors as pages) and `pages` (what a signed-in user sees).
"""

from __future__ import annotations

from fastapi import APIRouter

from stockroom.dashboard import pages, session

router = APIRouter(include_in_schema=False)
router.include_router(session.router)
router.include_router(pages.router)
