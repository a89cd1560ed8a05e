"""`stockroom tokens`: API tokens of users."""

from __future__ import annotations

import uuid
from typing import Annotated, Any

import typer
from sqlalchemy.ext.asyncio import AsyncSession

from stockroom.cli.common import JsonFlag, console, err, print_json, run, run_read, show
from stockroom.users.service import create_token, find_user, revoke_tokens, user_tokens

app = typer.Typer(name="tokens", help="API tokens.", no_args_is_help=True)

UserOption = Annotated[uuid.UUID, typer.Option(help="User id.")]


@app.command("create")
def tokens_create(user: UserOption, as_json: JsonFlag = False) -> None:
    """Issue a bearer token for a user; it is shown once and stored only as a hash."""

    async def work(session: AsyncSession) -> str:
        _, token = await create_token(session, await find_user(session, user))
        return token

    token = run(work)
    if as_json:
        print_json({"token": token})
    else:
        console.print(f"token (shown once): [bold]{token}[/bold]")


@app.command("list")
def tokens_list(user: UserOption, as_json: JsonFlag = False) -> None:
    """List a user's tokens: prefix, created, revoked (the tokens themselves are never kept)."""

    async def work(session: AsyncSession) -> list[dict[str, Any]]:
        return [
            {
                "id": t.id,
                "prefix": t.prefix,
                "created_at": t.created_at,
                "revoked_at": t.revoked_at,
            }
            for t in await user_tokens(session, await find_user(session, user))
        ]

    show(run_read(work), as_json, title="Tokens")


@app.command("revoke")
def tokens_revoke(
    token: Annotated[str, typer.Argument(help="Token display prefix (sr_xxxxxxxx), token or id.")],
) -> None:
    """Revoke a token; requests with it get 401 from then on."""
    count = run(lambda s: revoke_tokens(s, token))
    if count == 0:
        err.print("[red]no live token matches[/red]")
        raise typer.Exit(1)
    console.print(f"revoked {count} token(s)")
