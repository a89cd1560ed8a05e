"""One owner of the request's transaction; no import circle through it."""

from __future__ import annotations

import subprocess
import sys


def modules_loaded_by(module: str) -> set[str]:
    code = f"import sys, {module}; print(' '.join(m for m in sys.modules if 'stockroom' in m))"
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True, timeout=60
    )
    return set(result.stdout.split())


def test_the_session_module_knows_nothing_of_auth_or_idempotency() -> None:
    loaded = modules_loaded_by("stockroom.db.session")
    assert not {m for m in loaded if m.startswith(("stockroom.auth", "stockroom.idempotency"))}


def test_the_token_helpers_need_no_fastapi_dependency_module() -> None:
    loaded = modules_loaded_by("stockroom.auth.tokens")
    assert "stockroom.auth.dependencies" not in loaded
    assert "stockroom.idempotency.calls" not in loaded
    assert "stockroom.db.session" not in loaded


def test_no_function_local_import_of_the_idempotency_layer() -> None:
    from pathlib import Path

    import stockroom

    root = Path(stockroom.__file__).parent
    for path in root.rglob("*.py"):
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if line.startswith((" ", "\t")) and "import" in line and "idempotency" in line:
                raise AssertionError(f"{path}:{number}: {line.strip()}")
