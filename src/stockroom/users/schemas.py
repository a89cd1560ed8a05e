"""Users as the API shows them, `/me`, and the body that creates a user."""

from __future__ import annotations

import uuid

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, field_validator

from stockroom.auth.principal import Role
from stockroom.fields import Text, Timestamp

# Deliberately loose (one @, a dot in the domain, no spaces): the address is a login name
# here, not a mailbox we write to.
EMAIL_PATTERN = r"^[^@\s]+@[^@\s]+\.[^@\s]+$"
MAX_SITES_PER_USER = 1000


class User(BaseModel):
    """A user of the brand. `site_ids` are its granted sites (an admin reads every site)."""

    id: uuid.UUID
    email: str
    role: Role
    site_ids: list[uuid.UUID]
    default_site_id: uuid.UUID | None
    created_at: Timestamp


class Me(User):
    """The calling user, with its brand."""

    brand_id: uuid.UUID


class UserCreate(BaseModel):
    model_config = ConfigDict(extra="forbid", str_strip_whitespace=True)

    email: Text = Field(
        max_length=320,
        pattern=EMAIL_PATTERN,
        description="Unique in the brand, compared in lower case.",
        examples=["kim@example.com"],
    )
    role: Role
    site_ids: list[uuid.UUID] = Field(
        default_factory=list,
        max_length=MAX_SITES_PER_USER,
        validation_alias=AliasChoices("site_ids", "workspace_ids"),
        description="Sites granted to a manager or viewer (alias `workspace_ids`).",
    )
    default_site_id: uuid.UUID | None = Field(
        None,
        validation_alias=AliasChoices("default_site_id", "default_workspace_id"),
        description="The user's current site when a request names none; it is granted too "
        "(alias `default_workspace_id`).",
    )

    @field_validator("email")
    @classmethod
    def _lower_case(cls, value: str) -> str:
        return value.lower()
