"""The OpenAPI document as a client fetches it, built without a database."""

from __future__ import annotations

import functools
import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

from stockroom.app import create_app
from stockroom.settings import Settings

ROOT = Path(__file__).resolve().parents[2]
TOOLS = ROOT / ".tools"
METHODS = {"get", "put", "post", "delete", "patch", "head", "options", "trace"}


@functools.cache
def _document_text() -> str:
    app = create_app(Settings(database_url="sqlite:///unused-openapi.db"))
    return json.dumps(app.openapi())


def openapi_document() -> dict[str, Any]:
    """A fresh copy of the document (tests may change theirs)."""
    return dict(json.loads(_document_text()))


def operations(document: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if method in METHODS:
                yield method, path, operation


def resolve(document: dict[str, Any], node: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in node:
        target: Any = document
        for part in node["$ref"].removeprefix("#/").split("/"):
            target = target[part]
        node = target
    return node
