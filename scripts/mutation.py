"""`make mutation`: puts one small fault at a time into the modules that hold the rules,
runs the tests that cover each module, and reports which faults no test noticed.

Works on a copy of the tree, so the repository never holds a mutated file, even after
Ctrl-C. Usage: scripts/mutation.py [--max-per-module N] [--module PATH ...]
"""

from __future__ import annotations

import argparse
import ast
import contextlib
import difflib
import importlib
import os
import random
import re
import shutil
import signal
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
# The tests that cover each module: unit and integration tests, or a focused e2e subset
# where only e2e tests reach the module. Globs pick up tests added later.
SELECTIONS: dict[str, list[str]] = {
    "services/crm/domain/identity.py": [
        "tests/unit/test_identity.py",
        "tests/unit/test_customer.py",
        "tests/integration/test_recording.py",
        "tests/integration/test_merging.py",
        "tests/unit/test_*identit*.py",
        "tests/unit/test_limits.py",
    ],
    "services/crm/domain/interaction.py": [
        "tests/unit/test_interaction.py",
        "tests/unit/test_transcoder.py",
        "tests/integration/test_recording.py",
        "tests/unit/test_*interaction*.py",
        "tests/unit/test_*limit*.py",
    ],
    "services/crm/domain/customer.py": [
        "tests/unit/test_customer*.py",
        "tests/unit/test_profile_update.py",
        "tests/integration/test_merging.py",
        "tests/integration/test_recycled_identities.py",
        "tests/integration/test_merge_properties.py",
        "tests/integration/test_*unlink*.py",
        "tests/integration/test_*unmerge*.py",
    ],
    "services/crm/api/errors.py": [
        "tests/e2e/test_errors.py",
        "tests/unit/test_*error*.py",
        "tests/unit/test_*status*.py",
    ],
    "services/crm/domain/cases/business_time.py": [
        "tests/unit/test_business_time.py",
        "tests/unit/test_sla_clocks.py",
    ],
    "services/crm/domain/cases/sla.py": ["tests/unit/test_sla_clocks.py"],
    "services/gateway/roles.py": [
        "tests/unit/test_gateway_config.py",
        "tests/e2e/test_gateway.py",
        "tests/unit/test_*role*.py",
        "tests/e2e/test_*role*.py",
    ],
    "services/gateway/auth.py": [
        "tests/unit/test_gateway_config.py",
        "tests/unit/test_cause.py",
        "tests/e2e/test_gateway.py",
        "tests/unit/test_*auth*.py",
        "tests/unit/test_*jwt*.py",
        "tests/e2e/test_*auth*.py",
    ],
}
# Each scenario runs on SQLite and PostgreSQL; one backend is enough to catch a fault
# in these modules, which do no storage.
KEYWORDS = "not postgres"
# Heavy third-party imports, loaded once; each run forks from this process (none of them
# starts a thread on import), so a mutant costs its tests, not the interpreter's start.
PRELOAD = [
    "pytest",
    "hypothesis",
    "schemathesis",
    "grpc",
    "grpc_status.rpc_status",
    "eventsourcing.application",
    "psycopg",
    "psycopg_pool",
    "phonenumbers",
    "holidays",
    "email_validator",
    "starlette.applications",
    "starlette.testclient",
    "uvicorn",
    "httpx2",
    "jwt",
]
SWAPPED: dict[type[ast.cmpop], type[ast.cmpop]] = {
    ast.Lt: ast.LtE,
    ast.LtE: ast.Lt,
    ast.Gt: ast.GtE,
    ast.GtE: ast.Gt,
    ast.Eq: ast.NotEq,
    ast.NotEq: ast.Eq,
    ast.In: ast.NotIn,
    ast.NotIn: ast.In,
    ast.Is: ast.IsNot,
    ast.IsNot: ast.Is,
}
FAILED_LINE = re.compile(r"^(?:FAILED|ERROR) (\S+)")


@dataclass(frozen=True)
class Mutant:
    """A fault: bytes start:end of the module's source replaced."""

    line: int
    kind: str
    start: int
    end: int
    replacement: bytes

    def apply(self, source: bytes) -> bytes:
        return source[: self.start] + self.replacement + source[self.end :]


class Faults:
    """Finds the places in one module's source where a small fault fits."""

    def __init__(self, source: bytes) -> None:
        self.source = source
        self.line_starts = [0]
        for line in source.splitlines(keepends=True):
            self.line_starts.append(self.line_starts[-1] + len(line))
        self.tree = ast.parse(source)
        # Type hints never run, and a decorator's numbers are tuning (a cache's size):
        # faults there tell nothing about the tests.
        self.skipped = {
            id(node)
            for parent in ast.walk(self.tree)
            for name in ("annotation", "returns", "decorator_list")
            for part in _as_list(getattr(parent, name, None))
            for node in ast.walk(part)
        }

    def offset(self, line: int, column: int) -> int:
        return self.line_starts[line - 1] + column  # ast columns count UTF-8 bytes.

    def span(self, node: ast.AST) -> tuple[int, int]:
        start = self.offset(node.lineno, node.col_offset)  # type: ignore[attr-defined]
        end = self.offset(node.end_lineno, node.end_col_offset)  # type: ignore[attr-defined]
        return start, end

    def text(self, node: ast.AST) -> str:
        start, end = self.span(node)
        return self.source[start:end].decode()

    def mutant(self, node: ast.AST, kind: str, replacement: str) -> Mutant:
        start, end = self.span(node)
        return Mutant(node.lineno, kind, start, end, replacement.encode())  # type: ignore[attr-defined]

    def all(self) -> Iterator[Mutant]:
        for node in ast.walk(self.tree):
            if id(node) in self.skipped:
                continue
            yield from self._at(node)

    def _at(self, node: ast.AST) -> Iterator[Mutant]:
        if isinstance(node, ast.Compare):
            for index, op in enumerate(node.ops):
                if type(op) in SWAPPED:
                    ops = [*node.ops]
                    ops[index] = SWAPPED[type(op)]()
                    swapped = ast.Compare(node.left, ops, node.comparators)
                    yield self.mutant(node, "flip comparison", ast.unparse(swapped))
        elif isinstance(node, ast.Constant) and isinstance(node.value, bool):
            yield self.mutant(node, "swap True/False", str(not node.value))
        elif isinstance(node, ast.Constant) and type(node.value) is int:
            yield self.mutant(node, "off by one", str(node.value + 1))
            yield self.mutant(node, "off by one", str(node.value - 1))
        elif isinstance(node, ast.Set | ast.List):  # Tuples are records, not collections.
            yield from self._drops(node.elts, "drop an element")
        elif isinstance(node, ast.Dict):
            yield from self._drop_entries(node)
        elif isinstance(node, ast.If | ast.While | ast.IfExp | ast.Assert):
            yield self.mutant(node.test, "negate condition", f"not ({self.text(node.test)})")
            if isinstance(node, ast.If) and not node.orelse and _raises(node.body):
                yield self.mutant(node, "drop a check", "pass")
        elif isinstance(node, ast.BoolOp):
            yield from self._swap_bool_op(node)
        elif isinstance(node, ast.Return) and _returns_a_result(node):
            yield self.mutant(node.value, "replace returned value", "None")  # type: ignore[arg-type]

    def _drops(self, elements: list[ast.expr], kind: str) -> Iterator[Mutant]:
        spans = [self.span(element) for element in elements]
        for index, (start, end) in enumerate(spans):
            # Cut up to the next element, or from the previous one, keeping the layout.
            if index + 1 < len(spans):
                end = spans[index + 1][0]
            elif index > 0:
                start = spans[index - 1][1]
            line = elements[index].lineno
            yield Mutant(line, f"{kind}: {ast.unparse(elements[index])[:60]}", start, end, b"")

    def _drop_entries(self, node: ast.Dict) -> Iterator[Mutant]:
        for index, key in enumerate(node.keys):
            if key is None:
                continue
            start, end = self.span(key)[0], self.span(node.values[index])[1]
            if index + 1 < len(node.keys) and node.keys[index + 1] is not None:
                end = self.span(node.keys[index + 1])[0]  # type: ignore[arg-type]
            elif index > 0:
                start = self.span(node.values[index - 1])[1]
            kind = f"drop an entry: {ast.unparse(key)[:60]}"
            yield Mutant(key.lineno, kind, start, end, b"")

    def _swap_bool_op(self, node: ast.BoolOp) -> Iterator[Mutant]:
        word, other = ("and", "or") if isinstance(node.op, ast.And) else ("or", "and")
        for left, right in zip(node.values, node.values[1:], strict=False):
            start, end = self.span(left)[1], self.span(right)[0]
            gap = self.source[start:end].replace(word.encode(), other.encode(), 1)
            yield Mutant(right.lineno, f"'{word}' to '{other}'", start, end, gap)


def _as_list(value: object) -> list[ast.AST]:
    if isinstance(value, ast.AST):
        return [value]
    return [part for part in value if isinstance(part, ast.AST)] if isinstance(value, list) else []


def _raises(body: list[ast.stmt]) -> bool:
    return any(isinstance(statement, ast.Raise) for statement in body)


def _returns_a_result(node: ast.Return) -> bool:
    """A return of something computed (constants get the other faults)."""
    return node.value is not None and not isinstance(node.value, ast.Constant)


def mutants_of(source: bytes, limit: int) -> list[Mutant]:
    """Every fault that still parses; over the limit, an even spread of them, the same
    ones every run."""
    found = []
    for mutant in Faults(source).all():
        try:
            ast.parse(mutant.apply(source))
        except SyntaxError:
            continue
        found.append(mutant)
    found.sort(key=lambda m: (m.start, m.end, m.kind))
    if len(found) > limit:
        found = sorted(random.Random(0).sample(found, limit), key=lambda m: (m.start, m.kind))
    return found


def selection(module: str, tree: Path) -> list[str]:
    paths: list[str] = []
    for pattern in SELECTIONS[module]:
        for path in sorted(tree.glob(pattern)):
            relative = str(path.relative_to(tree))
            if relative not in paths:
                paths.append(relative)
    return paths


def run_tests(tree: Path, arguments: list[str], timeout: float, log: Path) -> int | None:
    """pytest's exit code in a forked child working in tree; None if it ran out of time."""
    child = os.fork()
    if child == 0:
        code = 3
        try:
            os.setpgid(0, 0)
            output = os.open(log, os.O_WRONLY | os.O_CREAT | os.O_TRUNC)
            os.dup2(output, 1)
            os.dup2(output, 2)
            os.chdir(tree)
            ours = {str(ROOT), str(ROOT / "gen" / "python"), str(ROOT / "scripts"), ""}
            sys.path[:] = [str(tree / "gen" / "python"), str(tree)] + [
                entry for entry in sys.path if entry not in ours
            ]
            os.environ["PYTHONPATH"] = f"{tree / 'gen' / 'python'}{os.pathsep}{tree}"
            os.environ["PYTHONDONTWRITEBYTECODE"] = "1"
            sys.dont_write_bytecode = True
            import pytest

            code = int(pytest.main(arguments))
        finally:
            os._exit(code)
    with contextlib.suppress(OSError):
        os.setpgid(child, child)  # Also here, so the group exists before any kill.
    deadline = time.monotonic() + timeout
    try:
        while True:
            finished, status = os.waitpid(child, os.WNOHANG)
            if finished:
                return os.waitstatus_to_exitcode(status)
            if time.monotonic() > deadline:
                return None
            time.sleep(0.05)
    finally:
        _end_group(child)


def _end_group(child: int) -> None:
    """Ends the child and whatever processes its tests started."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(child, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(child, 0)


@dataclass
class Outcome:
    mutant: Mutant
    killed: bool
    how: str


def measure(module: str, tree: Path, limit: int) -> tuple[list[Outcome], str]:
    """The outcome of each mutant of module, or a reason none could be judged."""
    tests = selection(module, tree)
    if not tests:
        return [], "no tests selected"
    target = tree / module
    original = target.read_bytes()
    log = tree / "mutation.log"
    base = ["-q", "-p", "no:cacheprovider", "-k", KEYWORDS, "-rfE", *tests]
    started = time.monotonic()
    code = run_tests(tree, base, 1800, log)
    baseline = time.monotonic() - started
    # Tests that fail before any fault (a fix not merged yet) cannot judge a mutant.
    failing = [m.group(1) for m in map(FAILED_LINE.match, log.read_text().splitlines()) if m]
    if code not in (0, 1) or (code == 1 and not failing):
        return [], f"the tests do not run (pytest exit {code}); see a run by hand"
    arguments = ["-x", *base, *(f"--deselect={test}" for test in failing)]
    note = f"{len(tests)} test files, baseline {baseline:.0f} s"
    if failing:
        note += f"; {len(failing)} tests failing before any fault, left out: {failing}"
    outcomes = []
    for number, mutant in enumerate(mutants_of(original, limit), 1):
        target.write_bytes(mutant.apply(original))
        try:
            code = run_tests(tree, arguments, baseline * 3 + 30, log)
        finally:
            target.write_bytes(original)
        killed, how = _judge(code)
        outcomes.append(Outcome(mutant, killed, how))
        mark = "killed" if killed else "SURVIVED"
        print(f"  [{number}] {module}:{mutant.line} {mutant.kind}: {mark} ({how})", flush=True)
    return outcomes, note


def _judge(code: int | None) -> tuple[bool, str]:
    if code is None:
        return True, "timed out"
    if code == 0:
        return False, "all tests passed"
    if code == 1:
        return True, "a test failed"
    if code == 2:
        return True, "tests could not run"
    return True, f"pytest exit {code}"


def diff(source: bytes, mutant: Mutant) -> str:
    before = source.decode().splitlines()
    after = mutant.apply(source).decode().splitlines()
    lines = difflib.unified_diff(before, after, lineterm="", n=0)
    return "\n".join(f"      {line}" for line in list(lines)[2:][:8])


def copy_tree(destination: Path) -> Path:
    tree = destination / "tree"
    ignored = shutil.ignore_patterns(
        ".git", ".venv", "var", "__pycache__", ".*_cache", ".hypothesis", "node_modules"
    )
    for name in ("services", "tests", "gen", "scripts", "proto", "deploy"):
        if (ROOT / name).exists():
            shutil.copytree(ROOT / name, tree / name, ignore=ignored, symlinks=True)
    for name in ("pyproject.toml", "Makefile", "README.md", "requirements.txt"):
        if (ROOT / name).exists():
            shutil.copy2(ROOT / name, tree / name)
    (tree / ".venv").symlink_to(ROOT / ".venv")
    return tree


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-per-module", type=int, default=20, help="mutants per module")
    parser.add_argument("--module", action="append", choices=sorted(SELECTIONS))
    options = parser.parse_args()
    # Ctrl-C, or a TERM from a supervisor, even when started in the background: stop the
    # tests, put the file back and delete the copy.
    signal.signal(signal.SIGINT, signal.default_int_handler)
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    for name in PRELOAD:
        with contextlib.suppress(ImportError):
            importlib.import_module(name)
    totals = [0, 0]
    with tempfile.TemporaryDirectory(prefix="mutation-") as scratch:
        tree = copy_tree(Path(scratch))
        try:
            for module in options.module or list(SELECTIONS):
                print(f"{module}: running its tests unchanged, then each mutant", flush=True)
                outcomes, note = measure(module, tree, options.max_per_module)
                report(module, outcomes, note, (ROOT / module).read_bytes())
                totals[0] += sum(outcome.killed for outcome in outcomes)
                totals[1] += len(outcomes)
        except KeyboardInterrupt:
            print("interrupted; the repository was never changed", file=sys.stderr)
            return 130
    killed, tried = totals
    score = f"{100 * killed / tried:.0f}%" if tried else "n/a"
    print(f"\nTOTAL: {killed} of {tried} mutants killed ({score})")
    return 0


def report(module: str, outcomes: list[Outcome], note: str, source: bytes) -> None:
    killed = sum(outcome.killed for outcome in outcomes)
    score = f"{100 * killed / len(outcomes):.0f}%" if outcomes else "n/a"
    print(f"\n{module}: {killed} killed, {len(outcomes) - killed} survived ({score}); {note}")
    for outcome in outcomes:
        if not outcome.killed:
            print(f"  survived {module}:{outcome.mutant.line} {outcome.mutant.kind}")
            print(diff(source, outcome.mutant))
    print(flush=True)


if __name__ == "__main__":
    sys.exit(main())
