"""A small mutation tester for the ledger (`make mutate`): how much of the writer do the tests see?

Each mutant is one small change to one module of `src/stockroom/ledger/` (a comparison
flipped, `and` for `or`, a constant nudged, a call's effect dropped...), written into a
private copy of the package, never into the work tree. The ledger-related tests then run
against the copy on SQLite only (`-x`: the first failure kills the mutant) with a
per-mutant timeout; a mutant that no test notices "survives".

Why not mutmut or cosmic-ray: mutmut 3 mutates only inside functions (a trampoline per
function picks the mutant at call time), and the writer's rules live in module-level
statements built once at import (`_KEY`, `_SITE_ALLOWS_NEGATIVE`, `_ATTEMPTS`,
`MAX_LOCATION_ID`): those mutants would be silently left out. cosmic-ray reaches them,
but needs a session database and a config per run, and its full operator set makes
several times more mutants than the two cores of this machine can run in a sitting.
The operators here are few, fixed and listed below, so a score is comparable run to run.

    python -m tools.mutate [--jobs 1] [--timeout 120] [--only writer.py] [--list]

Prose strings (a constant with a space: error messages) are not mutated: their wording is
for humans, and a mutant of it tells nothing about behaviour. Docstrings, annotations and
imports are not mutated either.
"""

from __future__ import annotations

import argparse
import ast
import copy
import importlib
import inspect
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
PACKAGE = ROOT / "src" / "stockroom"
TARGETS = [
    "ledger/writer.py",
    "ledger/rules.py",
    "ledger/lines.py",
    "ledger/verify.py",
    "ledger/available.py",
    "ledger/statements.py",
]
# The tests that exercise the ledger; SQLite only (`-k sqlite` keeps the pure rule tests
# too, which have no backend parameter, through the `or` below).
TESTS = [
    "tests/ledger",
    "tests/adjustments",
    "tests/transfers/test_create.py",
    "tests/invoices/test_invoices.py",
    "tests/purchases",
    "tests/initial_stock",
    "tests/stock/test_product_stock.py",
    "tests/movements/test_ledger_scenario.py",
    "tests/observability/test_metrics.py",  # the writer's refusal and movement counters
    # The reserved side (ledger/available.py); not test_cli_worker.py, whose real processes
    # would run the unmutated module.
    "tests/reservations/test_create.py",
    "tests/reservations/test_sales.py",
    "tests/reservations/test_release_extend.py",
    "tests/reservations/test_expiry.py",
    "tests/reservations/test_idempotency.py",
    "tests/reservations/test_races.py",
    "tests/reservations/test_dashboard.py",
    "tests/stock/test_levels.py",
]
SELECT = "sqlite or not postgres"

COMPARE_SWAPS: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
}
BINOP_SWAPS: dict[type[ast.operator], type[ast.operator]] = {
    ast.Add: ast.Sub,
    ast.Sub: ast.Add,
    ast.Mult: ast.FloorDiv,
    ast.Pow: ast.Mult,
    ast.BitOr: ast.BitAnd,
    ast.BitAnd: ast.BitOr,
}
NAME_SWAPS = {"and_": "or_", "or_": "and_", "True": "False", "False": "True"}
# A call whose only effect is to convert or copy: `set(rows)` -> `rows`.
UNWRAPPED = {"set", "list", "sorted", "bool", "int", "str", "tuple", "dict"}


@dataclass(frozen=True)
class Mutant:
    path: str  # relative to src/stockroom
    index: int  # the index-th mutation site of the file, in walk order
    line: int
    end_line: int
    what: str


class _Sites(ast.NodeTransformer):
    """Walks a module in a fixed order; numbers every possible mutation. Given `target`,
    applies that one mutation and leaves the rest of the tree as it is."""

    def __init__(self, target: int | None = None) -> None:
        self.target = target
        self.count = 0
        self.found: list[tuple[int, int, str]] = []

    def _site(self, node: ast.AST, what: str) -> bool:
        """Record a mutation site; True when it is the one to apply."""
        index = self.count
        self.count += 1
        line = getattr(node, "lineno", 0)
        self.found.append((line, getattr(node, "end_lineno", None) or line, what))
        return index == self.target

    # Never mutated: imports, annotations, docstrings, f-strings' text.
    def visit_Import(self, node: ast.Import) -> ast.AST:
        return node

    def visit_ImportFrom(self, node: ast.ImportFrom) -> ast.AST:
        return node

    def visit_JoinedStr(self, node: ast.JoinedStr) -> ast.AST:
        return node

    def visit_AnnAssign(self, node: ast.AnnAssign) -> ast.AST:
        if node.value is not None:
            node.value = self.visit(node.value)
            if not isinstance(node.value, ast.Constant) and self._site(
                node, "assigned value -> None"
            ):
                node.value = ast.Constant(None)
        return node

    def visit_arg(self, node: ast.arg) -> ast.AST:
        return node

    def _body(self, body: list[ast.stmt]) -> list[ast.stmt]:
        start = 0
        if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
            start = 1  # docstring
        return body[:start] + [self.visit(stmt) for stmt in body[start:]]

    def visit_Module(self, node: ast.Module) -> ast.AST:
        node.body = self._body(node.body)
        return node

    def visit_FunctionDef(self, node: ast.FunctionDef) -> ast.AST:
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [
            None if d is None else self.visit(d) for d in node.args.kw_defaults
        ]
        node.body = self._body(node.body)
        return node

    def visit_AsyncFunctionDef(self, node: ast.AsyncFunctionDef) -> ast.AST:
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.args.defaults = [self.visit(d) for d in node.args.defaults]
        node.args.kw_defaults = [
            None if d is None else self.visit(d) for d in node.args.kw_defaults
        ]
        node.body = self._body(node.body)
        return node

    def visit_ClassDef(self, node: ast.ClassDef) -> ast.AST:
        node.decorator_list = [self.visit(d) for d in node.decorator_list]
        node.body = self._body(node.body)
        return node

    # Operators.
    def visit_Compare(self, node: ast.Compare) -> ast.AST:
        self.generic_visit(node)
        for i, op in enumerate(node.ops):
            swap = COMPARE_SWAPS.get(type(op))
            if swap and self._site(node, f"{type(op).__name__} -> {swap.__name__}"):
                node.ops[i] = swap()
        return node

    def visit_BinOp(self, node: ast.BinOp) -> ast.AST:
        self.generic_visit(node)
        swap = BINOP_SWAPS.get(type(node.op))
        if swap and self._site(node, f"{type(node.op).__name__} -> {swap.__name__}"):
            node.op = swap()
        return node

    def visit_BoolOp(self, node: ast.BoolOp) -> ast.AST:
        self.generic_visit(node)
        other = ast.Or if isinstance(node.op, ast.And) else ast.And
        if self._site(node, f"{type(node.op).__name__} -> {other.__name__}"):
            node.op = other()
        return node

    def visit_UnaryOp(self, node: ast.UnaryOp) -> ast.AST:
        self.generic_visit(node)
        if isinstance(node.op, ast.Not) and self._site(node, "not x -> x"):
            return node.operand
        if isinstance(node.op, ast.USub) and self._site(node, "-x -> x"):
            return node.operand
        return node

    def visit_Constant(self, node: ast.Constant) -> ast.AST:
        value = node.value
        if isinstance(value, bool):
            if self._site(node, f"{value} -> {not value}"):
                return ast.copy_location(ast.Constant(not value), node)
        elif isinstance(value, int):
            if self._site(node, f"{value} -> {value + 1}"):
                return ast.copy_location(ast.Constant(value + 1), node)
        elif (
            isinstance(value, str)
            and " " not in value
            and self._site(node, f"{value!r} -> 'XX{value}XX'")
        ):
            return ast.copy_location(ast.Constant(f"XX{value}XX"), node)
        return node

    def visit_Name(self, node: ast.Name) -> ast.AST:
        swap = NAME_SWAPS.get(node.id)
        if swap and isinstance(node.ctx, ast.Load) and self._site(node, f"{node.id} -> {swap}"):
            return ast.copy_location(ast.Name(swap, ast.Load()), node)
        return node

    def visit_Call(self, node: ast.Call) -> ast.AST:
        self.generic_visit(node)
        if (
            isinstance(node.func, ast.Name)
            and node.func.id in UNWRAPPED
            and len(node.args) == 1
            and not node.keywords
            and self._site(node, f"{node.func.id}(x) -> x")
        ):
            return node.args[0]
        return node

    # Statements.
    def visit_Expr(self, node: ast.Expr) -> ast.AST:
        self.generic_visit(node)
        if self._site(node, "statement removed"):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_Return(self, node: ast.Return) -> ast.AST:
        self.generic_visit(node)
        returns_none = node.value is None or (
            isinstance(node.value, ast.Constant) and node.value.value is None
        )
        if not returns_none and self._site(node, "return x -> return None"):
            node.value = ast.Constant(None)
        return node

    def visit_Assign(self, node: ast.Assign) -> ast.AST:
        self.generic_visit(node)
        assigns_none = isinstance(node.value, ast.Constant) and node.value.value is None
        if not assigns_none and self._site(node, "assigned value -> None"):
            node.value = ast.Constant(None)
        return node

    def visit_AugAssign(self, node: ast.AugAssign) -> ast.AST:
        self.generic_visit(node)
        if self._site(node, "augmented assignment removed"):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_Raise(self, node: ast.Raise) -> ast.AST:
        self.generic_visit(node)
        if self._site(node, "raise removed"):
            return ast.copy_location(ast.Pass(), node)
        return node

    def visit_If(self, node: ast.If) -> ast.AST:
        self.generic_visit(node)
        if self._site(node.test, "if condition negated"):
            node.test = ast.UnaryOp(ast.Not(), node.test)
        return node

    def visit_Continue(self, node: ast.Continue) -> ast.AST:
        if self._site(node, "continue -> break"):
            return ast.copy_location(ast.Break(), node)
        return node


def mutants_of(path: str) -> list[Mutant]:
    sites = _Sites()
    sites.visit(ast.parse((PACKAGE / path).read_text()))
    return [Mutant(path, i, *found) for i, found in enumerate(sites.found)]


def mutated_source(mutant: Mutant) -> str:
    tree = ast.parse((PACKAGE / mutant.path).read_text())
    sites = _Sites(target=mutant.index)
    tree = ast.fix_missing_locations(sites.visit(copy.deepcopy(tree)))
    return ast.unparse(tree)


PYTEST_ARGS = [
    # Only the plugins these tests use: autoloading every installed one (schemathesis
    # included) costs more than most mutants' tests.
    "-p",
    "pytest_asyncio.plugin",
    "-p",
    "hypothesis.extra.pytestplugin",
    "-p",
    "no:cacheprovider",
    "-q",
    "--no-header",
    "-o",
    "addopts=--strict-markers",
]


# --- Which tests run each line (coverage with one context per test) --------------------------

_ORDER_FILE = "STOCKROOM_MUTATE_ORDER"
_run_order: list[str] = []


def pytest_runtest_setup(item: Any) -> None:
    """Plugin hook (`-p tools.mutate`): each test's lines, fixtures included, get its id."""
    import coverage

    current = coverage.Coverage.current()
    if current is not None:
        current.switch_context(item.nodeid)
    _run_order.append(item.nodeid)


def pytest_sessionfinish(session: Any) -> None:
    if os.environ.get(_ORDER_FILE):
        Path(os.environ[_ORDER_FILE]).write_text("\n".join(_run_order))


@dataclass
class Coverage:
    order: list[str]  # every test, in run order
    contexts: dict[str, dict[int, set[str]]]  # module -> line -> tests ("" = at import)

    def tests_for(self, mutant: Mutant) -> list[str] | None:
        """The tests that run the mutated lines, in run order; None when none does."""
        lines = self.contexts.get(mutant.path, {})
        tests: set[str] = set()
        for line in range(mutant.line, mutant.end_line + 1):
            tests |= lines.get(line, set())
        if not tests:
            return None
        if "" in tests:  # run at import: every test may depend on it
            return self.order
        return [t for t in self.order if t in tests]


def measure_coverage(exclude: str | None, work: Path) -> Coverage:
    import coverage

    data_file = work / "coverage.data"
    order_file = work / "order.txt"
    select = SELECT if exclude is None else f"({SELECT}) and not ({exclude})"
    command = [
        sys.executable,
        "-m",
        "coverage",
        "run",
        f"--data-file={data_file}",
        "--include=*/stockroom/ledger/*",
        "-m",
        "pytest",
        *PYTEST_ARGS,
        "-p",
        "tools.mutate",
        *TESTS,
        "-k",
        select,
    ]
    env = {**os.environ, "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1", _ORDER_FILE: str(order_file)}
    started = time.monotonic()
    result = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True)
    if result.returncode != 0:
        print(result.stdout[-3000:], result.stderr[-3000:])
        raise SystemExit("the tests fail without any mutant; fix them first (or --exclude)")
    print(f"baseline with coverage: green in {time.monotonic() - started:.0f}s", flush=True)
    data = coverage.CoverageData(str(data_file))
    data.read()
    contexts = {}
    for target in TARGETS:
        by_line = data.contexts_by_lineno(str(PACKAGE / target))
        contexts[target] = {line: set(names) for line, names in by_line.items()}
    return Coverage(order_file.read_text().split("\n"), contexts)


# --- Running a mutant: a fork of a process that has imported everything once -----------------
#
# Importing FastAPI, SQLAlchemy, pytest and the app costs seconds of CPU, more than most
# mutants' tests: the parent imports them once and forks a child per mutant. The child
# executes the mutated source into the module's own namespace, points every other module's
# reference to a replaced function or class at the new one (`from x import f` copies), and
# runs pytest in-process. Nothing is written to the work tree.

# Not the pytest plugins themselves: pytest must import those (to rewrite their asserts).
PRELOAD = [
    "pytest",
    "hypothesis",
    "hypothesis.strategies",
    "httpx",
    "stockroom.app",
    "stockroom.db.migrate",
    "stockroom.ledger.verify",
]


def _preload() -> None:
    os.environ["PYTEST_DISABLE_PLUGIN_AUTOLOAD"] = "1"
    os.chdir(ROOT)
    for name in PRELOAD:
        importlib.import_module(name)


def _apply(mutant: Mutant) -> None:
    name = "stockroom." + mutant.path.removesuffix(".py").replace("/", ".")
    module = importlib.import_module(name)
    namespace = vars(module)
    before = dict(namespace)
    code = compile(mutated_source(mutant), str(PACKAGE / mutant.path), "exec")
    exec(code, namespace)  # noqa: S102 -- the point of the tool: run the mutated module
    replaced = {
        id(old): namespace[key]
        for key, old in before.items()
        if (inspect.isfunction(old) or inspect.isclass(old))
        and getattr(old, "__module__", None) == name
        and namespace.get(key) is not old
    }
    for other in list(sys.modules.values()):
        if other is module or not getattr(other, "__name__", "").startswith("stockroom"):
            continue
        for key, value in list(vars(other).items()):
            new = replaced.get(id(value))
            if new is not None:
                setattr(other, key, new)


def _child(mutant: Mutant | None, tests: list[str], basetemp: Path) -> None:
    code = 3
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.dup2(devnull, 2)
        if mutant is not None:
            _apply(mutant)
        import pytest

        code = int(pytest.main([*PYTEST_ARGS, "-x", f"--basetemp={basetemp}", *tests]))
    except BaseException:
        code = 3
    finally:
        os._exit(code)


def _outcome(status: int) -> str:
    code = os.waitstatus_to_exitcode(status)
    # 0: every test passed. 1: a test failed. 2-4: the mutant broke collection or import.
    return "survived" if code == 0 else "killed"


def run(
    mutants: list[Mutant], jobs: int, timeout: float, exclude: str | None
) -> list[tuple[Mutant, str, float]]:
    # SQLite's fsyncs on a busy disk cost more than the tests: keep the databases in memory.
    shm = Path("/dev/shm")  # noqa: S108 -- mkdtemp makes a private directory in it
    work = Path(tempfile.mkdtemp(prefix="stockroom-mutate-", dir=shm if shm.is_dir() else None))
    results: list[tuple[Mutant, str, float]] = []
    try:
        covered = measure_coverage(exclude, work)
        _preload()
        queue: list[tuple[Mutant | None, list[str]]] = [(None, covered.order)]  # baseline
        for mutant in mutants:
            tests = covered.tests_for(mutant)
            # A line no test seems to run is still tried against every test (see below).
            queue.append((mutant, covered.order if tests is None else tests))
        running: dict[int, tuple[Mutant | None, float]] = {}
        finishing_tests: dict[int, list[str]] = {}
        done = 0
        while queue or running:
            while queue and len(running) < jobs:
                queued, tests = queue.pop(0)
                basetemp = work / f"run-{len(queue)}"
                pid = os.fork()
                if pid == 0:
                    _child(queued, tests, basetemp)
                running[pid] = (queued, time.monotonic())
                finishing_tests[pid] = tests
            time.sleep(0.05)
            for pid, (finishing, started) in list(running.items()):
                finished, status = os.waitpid(pid, os.WNOHANG)
                elapsed = time.monotonic() - started
                if finished == 0 and elapsed < timeout:
                    continue
                if finished == 0:
                    os.kill(pid, signal.SIGKILL)
                    os.waitpid(pid, 0)
                    outcome = "timeout"
                else:
                    outcome = _outcome(status)
                del running[pid]
                if finishing is None:
                    print(f"baseline (no mutant, forked): {outcome} in {elapsed:.0f}s", flush=True)
                    if outcome != "survived":
                        raise SystemExit("the tests fail in the forked runner without a mutant")
                    continue
                if outcome == "survived" and len(finishing_tests[pid]) < len(covered.order):
                    # Per-test coverage misses some lines (code run in other tasks): a
                    # survivor counts only once every selected test has passed.
                    queue.insert(0, (finishing, covered.order))
                    continue
                done += 1
                results.append((finishing, outcome, elapsed))
                mark = {"killed": ".", "survived": "S"}.get(outcome, "T")
                print(
                    f"{done:4} {mark} {finishing.path}:{finishing.line} #{finishing.index} "
                    f"{finishing.what} [{outcome}, {elapsed:.1f}s]",
                    flush=True,
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)
    return results


def report(results: list[tuple[Mutant, str, float]], seconds: float) -> str:
    lines = ["", "Mutation score of src/stockroom/ledger/ (SQLite, ledger-related tests)", ""]
    lines.append("| module | mutants | killed | timeout | survived | score |")
    lines.append("| --- | ---: | ---: | ---: | ---: | ---: |")
    total = [0, 0, 0, 0]
    for path in sorted({m.path for m, _, _ in results}):
        outcomes = [o for m, o, _ in results if m.path == path]
        killed = outcomes.count("killed")
        timeout = outcomes.count("timeout")
        survived = len(outcomes) - killed - timeout
        row = [len(outcomes), killed, timeout, survived]
        total = [a + b for a, b in zip(total, row, strict=True)]
        lines.append(
            f"| {path} | {row[0]} | {killed} | {timeout} | {survived} | "
            f"{(killed + timeout) / len(outcomes):.0%} |"
        )
    n, killed, timeout, survived = total
    if n:
        lines.append(
            f"| all | {n} | {killed} | {timeout} | {survived} | {(killed + timeout) / n:.0%} |"
        )
    lines.append("")
    lines.append(f"{n} mutants in {seconds / 60:.1f} min")
    lines.append("")
    lines.append("Survivors:")
    for mutant, outcome, _ in sorted(results, key=lambda r: (r[0].path, r[0].line, r[0].index)):
        if outcome not in ("killed", "timeout"):
            lines.append(f"- {mutant.path}:{mutant.line} #{mutant.index} {mutant.what} ({outcome})")
    return "\n".join(lines)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--jobs", type=int, default=1, help="mutants run at once (default 1)")
    parser.add_argument("--timeout", type=float, default=120, help="seconds per mutant")
    parser.add_argument("--only", action="append", help="a module of ledger/, e.g. writer.py")
    parser.add_argument("--index", type=int, action="append", help="only these mutant numbers")
    parser.add_argument(
        "--pick", action="append", help="one mutant as module#number, e.g. writer.py#27"
    )
    parser.add_argument("--list", action="store_true", help="list the mutants, run nothing")
    parser.add_argument("--show", type=int, help="print the mutated source of mutant N")
    parser.add_argument("--output", type=Path, help="also write the report to this file")
    parser.add_argument(
        "--exclude", help="a pytest -k expression of tests to leave out (e.g. known failures)"
    )
    args = parser.parse_args(argv)
    targets = [t for t in TARGETS if not args.only or Path(t).name in args.only]
    mutants = [m for t in targets for m in mutants_of(t)]
    if args.index:
        mutants = [m for m in mutants if m.index in args.index]
    if args.pick:
        picked = {tuple(p.rsplit("#", 1)) for p in args.pick}
        mutants = [m for m in mutants if (Path(m.path).name, str(m.index)) in picked]
    if args.show is not None:
        print(mutated_source(next(m for m in mutants if m.index == args.show)))
        return 0
    if args.list:
        for m in mutants:
            print(f"{m.path}:{m.line} #{m.index} {m.what}")
        print(f"{len(mutants)} mutants")
        return 0
    started = time.monotonic()
    results = run(mutants, args.jobs, args.timeout, args.exclude)
    text = report(results, time.monotonic() - started)
    print(text)
    if args.output:
        args.output.write_text(text + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
