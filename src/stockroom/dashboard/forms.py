"""Posted dashboard forms: who posts, CSRF, and the per-form Idempotency-Key.

Every write form carries two hidden fields:

- `csrf`: an HMAC of the session token (`csrf_token`). A page of another site can neither
  read it nor compute it, so a forged post fails even if a browser sent the cookie along
  (SameSite=Strict already keeps it off cross-site requests; the Origin check of
  `session.require_same_origin` applies too: three locks, any one suffices).
- `idempotency_key`: a fresh UUID per rendered form. The post claims it through the API's
  own idempotency layer (`idempotency.calls`): the first post runs, a second one with the same
  form (a double-click, a resubmit after a lost answer, the back button) gets the first one's
  answer — the redirect to its result — and writes nothing. A post that fails (an error shown
  in place, status ≥ 400) is rolled back and its key released, so the corrected form may
  reuse it, as the API's contract says.

The key is claimed before the request's transaction opens its session: on SQLite that
session takes the write lock when it opens, and the claim commits in a session of its own.
So a handler takes `PostedForm` as its FIRST parameter, before `Session`.

Errors are shown in place: `attempt` runs a write and, on a domain error (or a form that does
not validate), renders the form again with the message and the fields it names.
"""

from __future__ import annotations

import asyncio
import hashlib
import hmac
import re
import uuid
from collections.abc import Awaitable, Callable, Mapping, Sequence
from dataclasses import dataclass, replace
from typing import Annotated, Any, TypeVar
from urllib.parse import parse_qs

from fastapi import Depends, Request
from fastapi.responses import Response
from pydantic import BaseModel
from pydantic import ValidationError as PydanticValidationError
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.auth.principal import Principal
from stockroom.dashboard.service import DashboardUser, dashboard_user
from stockroom.db.session import TRANSACTION_STATE, RequestTransaction
from stockroom.errors import (
    Detail,
    Forbidden,
    IdempotencyInProgress,
    StockroomError,
    ValidationFailed,
    field_error,
)
from stockroom.idempotency import calls

CSRF_FIELD = "csrf"
KEY_FIELD = "idempotency_key"
# A form has a few dozen fields at most; more is not a form of ours.
MAX_FIELDS = 200
# A second post of a form still being saved waits for the first one's answer this long.
IN_PROGRESS_WAIT_SECONDS = 5.0
IN_PROGRESS_POLL_SECONDS = 0.05

_WHOLE_NUMBER = re.compile(r"[+-]?[0-9]{1,12}")
_LINE_FIELD = re.compile(r"lines\[(\d+)\]\.(.+)")

M = TypeVar("M", bound=BaseModel)


def csrf_token(session_token: str) -> str:
    """The form token of a session: derived from its secret, so nothing needs storing."""
    return hmac.new(session_token.encode(), b"stockroom dashboard form", hashlib.sha256).hexdigest()


def new_form_key() -> str:
    return str(uuid.uuid4())


class Replayed(Exception):
    """The form was posted before with this key: send the first post's answer again."""

    def __init__(self, status_code: int, body: bytes) -> None:
        self.status_code = status_code
        self.body = body
        super().__init__(status_code)


def replay_response(replayed: Replayed) -> Response:
    """The stored answer of a form post: a redirect (its body is the location) or a status."""
    location = replayed.body.decode("utf-8", errors="replace")
    if 300 <= replayed.status_code < 400 and location.startswith("/dashboard"):
        return done(location)
    return Response(status_code=replayed.status_code)


def done(location: str) -> Response:
    """The answer to a successful post: see the result (Post/Redirect/Get).

    The body repeats the location, because the idempotency layer stores status and body
    only: a replay redirects to the same place."""
    return Response(
        location.encode(), status_code=303, headers={"Location": location}, media_type="text/plain"
    )


@dataclass(frozen=True)
class PostedForm:
    """A write form as posted: its signed-in principal and its fields."""

    principal: Principal
    csrf: str
    values: Mapping[str, Sequence[str]]

    def get(self, name: str) -> str:
        found = self.values.get(name)
        return found[0].strip() if found else ""

    def all(self, name: str) -> list[str]:
        return [value.strip() for value in self.values.get(name, ())]

    def key(self) -> str:
        return self.get(KEY_FIELD)


async def posted_form(request: Request) -> PostedForm:
    """Check the session, the origin and the CSRF token; claim the form's Idempotency-Key."""
    # Imported here: the session module's route class renders `Replayed` from this module.
    from stockroom.dashboard.session import (
        COOKIE,
        SignInRequired,
        principal_in_own_session,
        require_same_origin,
    )

    token = request.cookies.get(COOKIE)
    if not token:
        raise SignInRequired()
    principal = await principal_in_own_session(request, token)
    if principal is None:
        raise SignInRequired("ended")
    require_same_origin(request)
    body = await request.body()
    try:
        values = parse_qs(
            body.decode("utf-8", errors="replace"),
            keep_blank_values=True,
            max_num_fields=MAX_FIELDS,
        )
    except ValueError:
        raise ValidationFailed("The form has too many fields.") from None
    sent = (values.get(CSRF_FIELD) or [""])[0]
    expected = csrf_token(token)
    if not hmac.compare_digest(sent.encode(), expected.encode()):
        raise Forbidden(
            "This form is out of date or was not sent from a page of this site: "
            "go back, reload the page and try again."
        )
    key = (values.get(KEY_FIELD) or [""])[0].strip()
    if key:
        await _claim(request, principal, key, body)
    return PostedForm(principal, expected, values)


async def _claim(request: Request, principal: Principal, raw_key: str, body: bytes) -> None:
    key = calls.key_of(raw_key.encode("utf-8"))
    fingerprint = calls.caller_fingerprint(
        "POST", request.url.path, request.scope.get("query_string", b""), body, principal, None
    )
    sessionmaker = request.app.state.sessionmaker
    waited = 0.0
    while True:
        try:
            started = await calls.begin(
                sessionmaker,
                principal,
                key,
                fingerprint,
                settings=request.app.state.settings,
                state=request.scope.setdefault("state", {}),
            )
            break
        except IdempotencyInProgress:
            # A double-click: the browser shows only the second answer, so wait for the
            # first post to finish and answer with its result rather than an error.
            if waited >= IN_PROGRESS_WAIT_SECONDS:
                raise IdempotencyInProgress(
                    "This form is still being saved: wait a moment, then reload the page."
                ) from None
            await asyncio.sleep(IN_PROGRESS_POLL_SECONDS)
            waited += IN_PROGRESS_POLL_SECONDS
    if isinstance(started, calls.Replay):
        raise Replayed(started.status_code, started.body)
    transaction = request.scope.get("state", {}).get(TRANSACTION_STATE)
    if not isinstance(transaction, RequestTransaction):  # pragma: no cover - pipeline installed
        raise RuntimeError("no request transaction")
    transaction.before_commit(started.store, after_rollback=started.release)


Posted = Annotated[PostedForm, Depends(posted_form)]


# --- reading fields ---------------------------------------------------------------------------


def number_or_text(value: str) -> int | str | None:
    """A whole number typed in a form as an int; empty as None; anything else as typed (the
    schema then says what is wrong with it)."""
    if not value:
        return None
    if _WHOLE_NUMBER.fullmatch(value):
        return int(value)
    return value


def uuid_or_none(value: str) -> uuid.UUID | None:
    try:
        return uuid.UUID(value) if value else None
    except ValueError:
        return None


_FRIENDLY = {
    "int_type": "Enter a whole number.",
    "int_parsing": "Enter a whole number.",
    "greater_than": "Enter a number above zero.",
    "greater_than_equal": "Enter zero or more.",
    "missing": "This is required.",
    "uuid_type": "Choose one.",
    "uuid_parsing": "Choose one.",
    "decimal_parsing": "Enter an amount such as 12.50.",
}


def checked(model: type[M], data: dict[str, Any]) -> M:
    """The form's fields as the API's own request schema; a ValidationFailed (shown in place)
    with one message per field when they do not fit it."""
    try:
        return model.model_validate(data)
    except PydanticValidationError as exc:
        details = [
            field_error(_field_name(error["loc"]), _FRIENDLY.get(error["type"], error["msg"]))
            for error in exc.errors()
        ]
        raise ValidationFailed("Some fields need a change.", details) from None


def _field_name(loc: Sequence[int | str]) -> str:
    """A schema location as the API names fields: ("lines", 1, "quantity") → lines[1].quantity."""
    name = ""
    for part in loc:
        name += f"[{part}]" if isinstance(part, int) else (f".{part}" if name else part)
    return name


@dataclass
class FormErrors:
    """What to show in place: the message, and one message per form field it names."""

    message: str
    fields: dict[str, str]
    status_code: int


def form_errors(
    error: StockroomError, aliases: Mapping[str, str], line_rows: Sequence[int] = ()
) -> FormErrors:
    """The error of a write in the form's own field names: `aliases` maps the API's field
    (`product_id`) to the form's (`sku`); `lines[2].quantity` becomes `quantity-R`, R the
    form row of the request's line 2 (`line_rows`; the same number without it)."""
    fields: dict[str, str] = {}
    for detail in error.details:
        fields.setdefault(_form_field(detail, aliases, line_rows), detail["message"])
    return FormErrors(error.message, fields, error.status_code)


def _form_field(detail: Detail, aliases: Mapping[str, str], line_rows: Sequence[int]) -> str:
    name = detail["field"]
    line = _LINE_FIELD.fullmatch(name)
    if line:
        index = int(line[1])
        row = line_rows[index] if index < len(line_rows) else index
        return f"{aliases.get(line[2], line[2])}-{row}"
    return aliases.get(name, name)


async def attempt(
    write: Callable[[], Awaitable[Response]],
    show_form: Callable[[FormErrors], Response],
    aliases: Mapping[str, str] | None = None,
    line_rows: Sequence[int] = (),
) -> Response:
    """Run a write; when a rule refuses it, the form again with the error in place (its status
    ≥ 400 rolls the transaction back, and the Idempotency-Key is released)."""
    try:
        return await write()
    except StockroomError as exc:
        return show_form(form_errors(exc, aliases or {}, line_rows))


async def form_user(session: AsyncSession, form: PostedForm) -> DashboardUser:
    """The poster as the pages see them (to show the form again, or the result)."""
    return replace(await dashboard_user(session, form.principal), csrf=form.csrf)
