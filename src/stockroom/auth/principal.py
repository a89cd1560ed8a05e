"""Who is calling: the authenticated user, its brand, role and the sites it may touch."""

from __future__ import annotations

import uuid
from dataclasses import dataclass
from enum import StrEnum

from stockroom.errors import Forbidden

# Where the request pipeline leaves the authenticated caller in the ASGI scope's state.
PRINCIPAL_STATE = "stockroom.principal"


class Role(StrEnum):
    admin = "admin"
    manager = "manager"
    viewer = "viewer"


@dataclass(frozen=True)
class Principal:
    user_id: uuid.UUID
    brand_id: uuid.UUID
    role: Role
    # Sites granted to a manager or viewer; admins read and write every site of the brand.
    site_ids: frozenset[uuid.UUID]
    default_site_id: uuid.UUID | None

    @property
    def is_admin(self) -> bool:
        return self.role is Role.admin

    def can_read(self, site_id: uuid.UUID) -> bool:
        return self.is_admin or site_id in self.site_ids

    def can_write(self, site_id: uuid.UUID) -> bool:
        return self.is_admin or (self.role is Role.manager and site_id in self.site_ids)

    def require_admin(self) -> None:
        if not self.is_admin:
            raise Forbidden("Only an admin of the brand can do this.")

    def require_writer(self) -> None:
        if self.role is Role.viewer:
            raise Forbidden("A viewer cannot change stock.")
