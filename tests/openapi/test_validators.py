"""Integrators' tools take the document: its examples, openapi-spec-validator and Redocly."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest
from jsonschema import Draft202012Validator
from openapi_spec_validator import validate
from referencing import Registry, Resource
from referencing.jsonschema import DRAFT202012

from tests.openapi.document import TOOLS, openapi_document

REDOCLY = TOOLS / "node_modules" / ".bin" / "redocly"
SCHEMA_KEYWORDS = {"type", "properties", "$ref", "anyOf", "oneOf", "allOf", "enum", "const"}


def examples(node: Any, path: str = "#") -> list[tuple[str, dict[str, Any], Any]]:
    """(where, schema, example) for every example of the document, wherever it sits."""
    found: list[tuple[str, dict[str, Any], Any]] = []
    if isinstance(node, dict):
        schema = node.get("schema")
        if isinstance(schema, dict):
            # A parameter or media type: `example`, or `examples` as named Example objects.
            if "example" in node:
                found.append((f"{path}/example", schema, node["example"]))
            for name, example in (node.get("examples") or {}).items():
                found.append((f"{path}/examples/{name}", schema, example["value"]))
        elif SCHEMA_KEYWORDS & set(node):
            # A schema: `examples` is a list of instances (JSON Schema 2020-12).
            if isinstance(node.get("examples"), list):
                found += [(f"{path}/examples/{i}", node, e) for i, e in enumerate(node["examples"])]
            if "example" in node:
                found.append((f"{path}/example", node, node["example"]))
        for key, value in node.items():
            if key not in {"example", "examples"}:
                found += examples(value, f"{path}/{key}")
    elif isinstance(node, list):
        for i, value in enumerate(node):
            found += examples(value, f"{path}/{i}")
    return found


DOCUMENT_URI = "urn:stockroom:openapi"


def absolute_refs(node: Any) -> Any:
    """The schema with its `#/components/...` references pointing into the document."""
    if isinstance(node, dict):
        return {
            k: f"{DOCUMENT_URI}{v}" if k == "$ref" and v.startswith("#") else absolute_refs(v)
            for k, v in node.items()
        }
    if isinstance(node, list):
        return [absolute_refs(v) for v in node]
    return node


def validator_for(document: dict[str, Any], schema: dict[str, Any]) -> Draft202012Validator:
    registry: Registry[Any] = Registry().with_resource(
        DOCUMENT_URI,
        Resource.from_contents(absolute_refs(document), default_specification=DRAFT202012),
    )
    return Draft202012Validator(
        absolute_refs(schema),
        registry=registry,
        format_checker=Draft202012Validator.FORMAT_CHECKER,
    )


def test_every_example_validates_against_its_schema() -> None:
    document = openapi_document()
    found = examples(document)
    failures = []
    for where, schema, example in found:
        for error in validator_for(document, schema).iter_errors(example):
            failures.append(f"{where}: {error.message}")
    assert len(found) >= 15  # request examples of every write, the movement, the error
    assert not failures, "\n".join(failures)


def test_a_broken_example_is_caught() -> None:
    # The check above must be able to fail: a movement example without its required nulls.
    document = openapi_document()
    movement = document["components"]["schemas"]["Movement"]
    broken = {k: v for k, v in movement["examples"][0].items() if v is not None}
    assert list(validator_for(document, movement).iter_errors(broken))
    wrong_uuid = {**movement["examples"][0], "id": "not-a-uuid"}
    assert list(validator_for(document, movement).iter_errors(wrong_uuid))


def test_openapi_spec_validator_accepts_the_document() -> None:
    validate(openapi_document())


def redocly_available() -> bool:
    if REDOCLY.exists():
        return True
    if os.environ.get("CI") == "true":
        pytest.fail(f"Redocly CLI is required under CI=true but {REDOCLY} is missing")
    pytest.skip("Redocly CLI is not installed (make openapi-tools)")


def redocly_lint(document: dict[str, Any], tmp_path: Path) -> dict[str, Any]:
    path = tmp_path / "openapi.json"
    path.write_text(json.dumps(document))
    result = subprocess.run(
        [str(REDOCLY), "lint", str(path), "--extends", "recommended", "--format", "json"],
        capture_output=True,
        text=True,
        timeout=120,
        env={**os.environ, "REDOCLY_TELEMETRY": "off", "REDOCLY_SUPPRESS_UPDATE_NOTICE": "true"},
    )
    report = json.loads(result.stdout[result.stdout.index("{") :])
    assert isinstance(report, dict)
    return report


def test_redocly_recommended_rules_find_no_error(tmp_path: Path) -> None:
    redocly_available()
    report = redocly_lint(openapi_document(), tmp_path)
    errors = [p for p in report["problems"] if p["severity"] == "error"]
    assert not errors, json.dumps(errors, indent=1)[:4000]


def test_redocly_lint_fails_a_document_without_servers(tmp_path: Path) -> None:
    # The lint must be able to fail: the error the document once had.
    redocly_available()
    document = openapi_document()
    del document["servers"]
    report = redocly_lint(document, tmp_path)
    assert "no-empty-servers" in {p["ruleId"] for p in report["problems"]}
