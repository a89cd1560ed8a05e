"""Dashboard templating: the Jinja2 environment (autoescape on) with its filters, rendering a
page, the error page, the security headers every response carries and the static assets."""

from __future__ import annotations

import hashlib
from decimal import Decimal
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, PackageLoader, StrictUndefined

from stockroom.dashboard.chart import signed, when
from stockroom.dashboard.forms import FormErrors, new_form_key

SECURITY_HEADERS = {
    "Content-Security-Policy": "default-src 'none'; script-src 'self'; style-src 'self'; "
    "img-src 'self'; "
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
    "dashboard.js": ((_STATIC / "dashboard.js").read_bytes(), "text/javascript"),
}
# In the assets' URLs, so a new version is fetched at once despite caching.
ASSETS_VERSION = hashlib.sha256(b"".join(body for body, _ in ASSETS.values())).hexdigest()[:12]


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
templates.globals["new_form_key"] = new_form_key


def render(
    request: Request, template: str, *, status_code: int = 200, **context: Any
) -> HTMLResponse:
    html = templates.get_template(template).render(request=request, **context)
    return HTMLResponse(html, status_code=status_code)


def render_form(
    request: Request,
    template: str,
    *,
    errors: FormErrors | None = None,
    notice: str | None = None,
    **context: Any,
) -> HTMLResponse:
    """A page with write forms: a refused post shows it again with the error in place, under
    the error's status; otherwise 200, with the note of what was saved (if any)."""
    return render(
        request,
        template,
        status_code=errors.status_code if errors else 200,
        errors=errors,
        notice=notice,
        **context,
    )


def error_page(request: Request, status_code: int, message: str) -> HTMLResponse:
    return render(
        request,
        "error.html",
        status_code=status_code,
        status=status_code,
        message=message,
        user=None,
    )
