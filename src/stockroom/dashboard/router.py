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
"""

from __future__ import annotations

import hashlib
import uuid
from collections.abc import Callable, Coroutine
from decimal import Decimal
from pathlib import Path
from typing import Annotated, Any
from urllib.parse import parse_qs, urlencode, urlsplit

from fastapi import APIRouter, Depends, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from fastapi.routing import APIRoute
from jinja2 import Environment, PackageLoader, StrictUndefined

from stockroom.auth.dependencies import Session
from stockroom.catalog import service as catalog_service
from stockroom.dashboard import service
from stockroom.dashboard.chart import Step, signed, step_chart, when
from stockroom.dashboard.service import HISTORY_LIMIT, DashboardUser
from stockroom.db.models import Site
from stockroom.db.models.ledger import MOVEMENT_TYPES
from stockroom.errors import Forbidden, NotFound, StockroomError, ValidationFailed
from stockroom.pagination import MAX_PAGE, PageParams
from stockroom.stock import service as stock_service

COOKIE = "stockroom_token"
# A working day; the token itself lives until revoked, the browser session need not.
COOKIE_MAX_AGE = 12 * 3600
PER_PAGE = 25
MOVEMENTS_PER_PAGE = 50
# All-sites stock shows one column per site up to this many; beyond, the total alone.
MAX_SITE_COLUMNS = 6

SIGN_IN_NOTICES = {
    "ended": "Your session has ended: the token is unknown or has been revoked. Sign in again.",
    "signed-out": "You are signed out.",
}
SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; style-src 'self'; img-src 'self'; "
    "form-action 'self'; frame-ancestors 'none'; base-uri 'none'",
    "X-Content-Type-Options": "nosniff",
    "X-Frame-Options": "DENY",
    "Referrer-Policy": "same-origin",
    "Cache-Control": "no-store",
}
_STATIC = Path(__file__).parent / "static"
# The dashboard's only assets, read once; served by name, so no path can reach other files.
ASSETS = {
    "dashboard.css": ((_STATIC / "dashboard.css").read_bytes(), "text/css"),
    "favicon.svg": ((_STATIC / "favicon.svg").read_bytes(), "image/svg+xml"),
}
# In the assets' URLs, so a new version is fetched at once despite caching.
ASSETS_VERSION = hashlib.sha256(b"".join(body for body, _ in ASSETS.values())).hexdigest()[:12]


class SignInRequired(Exception):
    """No session cookie, or one whose token no longer works: back to the sign-in form."""

    def __init__(self, notice: str | None = None) -> None:
        self.notice = notice
        super().__init__(notice)


def _error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status_code=status_code,
        status=status_code,
        message=message,
        user=None,
    )


def _back_to_sign_in(notice: str | None) -> Response:
    response = RedirectResponse("/" + (f"?notice={notice}" if notice else ""), status_code=303)
    if notice:
        _clear_cookie(response)
    return response


class DashboardRoute(APIRoute):
    """A route whose errors are pages for people (and a redirect to sign-in), not JSON."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handle = super().get_route_handler()

        async def page(request: Request) -> Response:
            try:
                response = await handle(request)
            except SignInRequired as exc:
                response = _back_to_sign_in(exc.notice)
            except StockroomError as exc:
                response = _error_page(request, exc.status_code, exc.message)
            except RequestValidationError as exc:
                # A malformed id in the path names nothing; a malformed query is a bad link.
                in_path = all(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors())
                response = (
                    _error_page(request, 404, "There is no such page.")
                    if in_path
                    else _error_page(request, 422, "The link has a value this page cannot use.")
                )
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return page


router = APIRouter(route_class=DashboardRoute, include_in_schema=False)

templates = Environment(
    loader=PackageLoader("stockroom.dashboard", "templates"),
    autoescape=True,
    undefined=StrictUndefined,
    trim_blocks=True,
    lstrip_blocks=True,
)
templates.filters["when"] = when
templates.filters["signed"] = signed
templates.filters["num"] = lambda value: f"{value:,}"
templates.filters["kind"] = lambda value: str(value).replace("_", " ")


def money(value: Decimal) -> str:
    """At least two decimals, more only when the figure has them: 14.5000 → 14.50."""
    exact = value.normalize()
    exponent = exact.as_tuple().exponent
    if isinstance(exponent, int) and exponent > -2:
        exact = exact.quantize(Decimal("0.01"))
    return f"{exact:,f}"


templates.filters["money"] = money


def with_query(request: Request, **changes: Any) -> str:
    """This page's path and query string with some parameters changed (None/"" drops one)."""
    params = dict(request.query_params)
    for name, value in changes.items():
        if value is None or value == "":
            params.pop(name, None)
        else:
            params[name] = str(value)
    return request.url.path + (f"?{urlencode(params)}" if params else "")


templates.globals["with_query"] = with_query
templates.globals["assets_version"] = ASSETS_VERSION


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    html = templates.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)


# --- the session cookie -------------------------------------------------------------------


def _set_cookie(request: Request, response: Response, token: str) -> None:
    response.set_cookie(
        COOKIE,
        token,
        max_age=COOKIE_MAX_AGE,
        path="/",
        httponly=True,
        samesite="strict",
        secure=request.url.scheme == "https",
    )


def _clear_cookie(response: Response) -> None:
    response.delete_cookie(COOKIE, path="/", httponly=True, samesite="strict")


def _require_same_origin(request: Request) -> None:
    """The form was posted from a page of this host (Origin, else Referer): no login CSRF."""
    source = request.headers.get("origin") or request.headers.get("referer") or ""
    parts = urlsplit(source)
    if parts.scheme not in {"http", "https"} or parts.netloc != request.url.netloc:
        raise Forbidden("This form must be sent from a page of this site.")


async def _form_field(request: Request, name: str) -> str:
    # A urlencoded form of one field needs no multipart parser.
    body = (await request.body()).decode("utf-8", errors="replace")
    values = parse_qs(body, max_num_fields=10).get(name, [""])
    return values[0].strip()


async def signed_in(request: Request, session: Session) -> DashboardUser:
    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired()
    principal = await service.principal_for_token(session, token)
    if principal is None:
        raise SignInRequired("ended")
    return await service.dashboard_user(session, principal)


SignedIn = Annotated[DashboardUser, Depends(signed_in)]
Page = Annotated[int, Query(ge=1, le=MAX_PAGE)]
SiteChoice = Annotated[str, Query(max_length=64)]


def _chosen_site(user: DashboardUser, raw: str) -> Site | None:
    """The readable site named by a `site_id` parameter; None for "all sites" (empty)."""
    if not raw:
        return None
    try:
        site = user.site(uuid.UUID(raw))
    except ValueError:
        site = None
    if site is None:
        raise NotFound("There is no such site among the sites you may read.")
    return site


def _home_site(user: DashboardUser) -> Site | None:
    """The user's default site when readable, else their first readable site by name."""
    default = user.principal.default_site_id
    home = user.site(default) if default else None
    return home or (user.sites[0] if user.sites else None)


# --- sign-in and sign-out -------------------------------------------------------------------


@router.get("/")
async def sign_in_page(request: Request, session: Session, notice: str = "") -> Response:
    token = request.cookies.get(COOKIE)
    if token and await service.principal_for_token(session, token) is not None:
        return RedirectResponse("/dashboard", status_code=303)
    response = render(
        request, "sign_in.html", user=None, error=None, notice=SIGN_IN_NOTICES.get(notice)
    )
    if token:
        _clear_cookie(response)
    return response


@router.post("/sign-in")
async def sign_in(request: Request, session: Session) -> Response:
    _require_same_origin(request)
    token = await _form_field(request, "token")
    principal = await service.principal_for_token(session, token) if token else None
    if principal is None:
        error = "That token is unknown or has been revoked." if token else "Enter an API token."
        return render(request, "sign_in.html", status_code=401, user=None, error=error, notice=None)
    response = RedirectResponse("/dashboard", status_code=303)
    _set_cookie(request, response, token)
    return response


@router.post("/sign-out")
async def sign_out(request: Request) -> Response:
    _require_same_origin(request)
    response = RedirectResponse("/?notice=signed-out", status_code=303)
    _clear_cookie(response)
    return response


@router.get("/dashboard/static/{name}")
async def asset(name: str) -> Response:
    if name not in ASSETS:
        raise NotFound("There is no such file.")
    body, media_type = ASSETS[name]
    return Response(body, media_type=media_type, headers={"Cache-Control": "public, max-age=3600"})


# --- pages ------------------------------------------------------------------------------------


@router.get("/dashboard")
async def stock_page(
    request: Request,
    session: Session,
    user: SignedIn,
    site_id: SiteChoice = "",
    q: Annotated[str, Query(max_length=200)] = "",
    page: Page = 1,
) -> Response:
    site = _chosen_site(user, site_id)
    shown = [site] if site else user.sites
    rows, meta = await service.stock_rows(
        session,
        user.principal,
        PageParams(page=page, per_page=PER_PAGE),
        site_ids=[s.id for s in shown],
        q=q.strip() or None,
    )
    return render(
        request,
        "stock.html",
        user=user,
        active="stock",
        site=site,
        columns=shown if site is None and len(shown) <= MAX_SITE_COLUMNS else [],
        rows=rows,
        meta=meta,
        q=q,
    )


@router.get("/dashboard/low-stock")
async def low_stock_page(
    request: Request, session: Session, user: SignedIn, site_id: SiteChoice = "", page: Page = 1
) -> Response:
    site = _chosen_site(user, site_id) or _home_site(user)
    rows: list[dict[str, Any]] = []
    meta = None
    if site is not None:
        rows, meta = await stock_service.low_stock(
            session,
            user.principal,
            PageParams(page=page, per_page=PER_PAGE),
            site_id=site.id,
            header_site=None,
        )
    return render(
        request, "low_stock.html", user=user, active="low-stock", site=site, rows=rows, meta=meta
    )


@router.get("/dashboard/products/{product_id}")
async def product_page(
    request: Request, session: Session, user: SignedIn, product_id: uuid.UUID
) -> Response:
    principal = user.principal
    product = await catalog_service.get_product(session, principal, product_id)
    stock = await stock_service.product_stock(session, principal, product_id)
    baseline, history = await service.stock_history(session, principal, product_id)
    chart = step_chart(
        baseline, [Step(p.created_at, p.type, p.quantity, p.on_hand) for p in history]
    )
    movements, _ = await service.latest_movements(
        session, principal, product_id=product_id, limit=20
    )
    location_ids = {loc.location_id for s in stock.sites for loc in s.locations}
    location_ids |= {m.location_id for m in movements if m.location_id is not None}
    return render(
        request,
        "product.html",
        user=user,
        active="stock",
        product=product,
        stock=stock,
        chart=chart,
        partial_history=len(history) >= HISTORY_LIMIT,
        history_limit=HISTORY_LIMIT,
        movements=movements,
        total_after={p.id: p.on_hand for p in history},
        site_names={s.id: s.name for s in user.sites},
        locations=await service.location_names(session, principal, location_ids),
    )


@router.get("/dashboard/movements")
async def movements_page(
    request: Request,
    session: Session,
    user: SignedIn,
    site_id: SiteChoice = "",
    type: Annotated[str, Query(max_length=32)] = "",
    cursor: Annotated[str | None, Query(max_length=200)] = None,
) -> Response:
    site = _chosen_site(user, site_id)
    if type and type not in MOVEMENT_TYPES:
        raise ValidationFailed(f"There is no movement type {type!r}.")
    movements, next_cursor = await service.latest_movements(
        session,
        user.principal,
        site_id=site.id if site else None,
        type=type or None,
        cursor=cursor or None,
        limit=MOVEMENTS_PER_PAGE,
    )
    location_ids = {m.location_id for m in movements if m.location_id is not None}
    return render(
        request,
        "movements.html",
        user=user,
        active="movements",
        site=site,
        type=type,
        types=MOVEMENT_TYPES,
        movements=movements,
        next_cursor=next_cursor,
        cursor=cursor,
        products=await service.product_labels(
            session, user.principal, {m.product_id for m in movements}
        ),
        site_names={s.id: s.name for s in user.sites},
        locations=await service.location_names(session, user.principal, location_ids),
    )
