"""The dashboard's session: signing in and out with an API token, the cookie, and the route
class that turns errors into pages.

Sign-in: `/` asks for a token; `POST /sign-in` checks it with `load_principal` and sets it
as a cookie (HttpOnly, SameSite=Strict, Secure when served over https). Every page
resolves the cookie again, so a revoked token ends the session on the next click (back to
sign-in, with a message); `POST /sign-out` clears it.

CSRF: the JSON API reads the Authorization header alone, so the cookie never authorizes an
API call. It does authorize the dashboard's write forms (`forms`): those carry a CSRF token
derived from the session and an Idempotency-Key, see `forms`. SameSite=Strict keeps the
cookie off cross-site requests. Every POST also requires an Origin header (or, when a
browser sends none, a Referer) naming this host: a forged sign-in would otherwise put the
victim into the attacker's brand ("login CSRF"), and a forged sign-out is a nuisance.

Errors become HTML pages (DashboardRoute), never the API's JSON: another brand's or an
unknown product is a 404 page, an expired session a redirect to sign-in. Every response
carries a strict Content-Security-Policy (scripts and styles only from this server's files,
nothing inline; every page works without its one script, which only shows times in the
reader's zone).
"""

from __future__ import annotations

from collections.abc import Callable, Coroutine
from dataclasses import replace
from typing import Annotated, Any
from urllib.parse import parse_qs, urlsplit

from fastapi import APIRouter, Depends, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import RedirectResponse, Response
from fastapi.routing import APIRoute

from stockroom.auth.dependencies import Session
from stockroom.auth.principal import Principal
from stockroom.dashboard import service
from stockroom.dashboard.forms import Replayed, csrf_token, replay_response
from stockroom.dashboard.service import DashboardUser
from stockroom.dashboard.templating import SECURITY_HEADERS, error_page, render
from stockroom.errors import Forbidden, StockroomError

COOKIE = "stockroom_token"
# A working day; the token itself lives until revoked, the browser session need not.
COOKIE_MAX_AGE = 12 * 3600

SIGN_IN_NOTICES = {
    "ended": "Your session has ended: the token is unknown or has been revoked. Sign in again.",
    "signed-out": "You are signed out.",
}


class SignInRequired(Exception):
    """No session cookie, or one whose token no longer works: back to the sign-in form."""

    def __init__(self, notice: str | None = None) -> None:
        self.notice = notice
        super().__init__(notice)


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
            except Replayed as exc:
                response = replay_response(exc)
            except StockroomError as exc:
                response = error_page(request, exc.status_code, exc.message)
            except RequestValidationError as exc:
                # A malformed id in the path names nothing; a malformed query is a bad link.
                in_path = all(tuple(e.get("loc", ()))[:1] == ("path",) for e in exc.errors())
                response = (
                    error_page(request, 404, "There is no such page.")
                    if in_path
                    else error_page(request, 422, "The link has a value this page cannot use.")
                )
            for name, value in SECURITY_HEADERS.items():
                response.headers.setdefault(name, value)
            return response

        return page


router = APIRouter(route_class=DashboardRoute, include_in_schema=False)


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


def require_same_origin(request: Request) -> None:
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
    return replace(await service.dashboard_user(session, principal), csrf=csrf_token(token))


async def principal_in_own_session(request: Request, token: str) -> Principal | None:
    """The token's principal, read in a short session of its own: a form post must claim its
    Idempotency-Key before the request's (write) transaction opens (see `forms`)."""
    async with request.app.state.sessionmaker() as session:
        return await service.principal_for_token(session, token)


SignedIn = Annotated[DashboardUser, Depends(signed_in)]


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
    require_same_origin(request)
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
    require_same_origin(request)
    response = RedirectResponse("/?notice=signed-out", status_code=303)
    _clear_cookie(response)
    return response
