"""Query parameters many routes share, declared once (same name, type and description)."""

from __future__ import annotations

import uuid
from typing import Annotated

from fastapi import Query

# A list's site filter, and `workspace_id`: the name some clients use for a site.
OnlySiteQuery = Annotated[uuid.UUID | None, Query(description="Only this site.")]
WorkspaceAliasQuery = Annotated[uuid.UUID | None, Query(description="Alias of site_id.")]
