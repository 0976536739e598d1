"""The READMEs are the textbook: every stage has the sections a learner relies on, and
every curl example names a route the stage really has."""

import importlib
import importlib.util
import json
import os
import re
import shlex
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
from fastapi import FastAPI
from starlette.routing import Match

from tests.stages import PACKAGE_IDS, PACKAGES, ROOT, STAGES, import_packages

STAGE_IDS = [stage.name for stage in STAGES]
ROOT_README = (ROOT / "README.md").read_text()
BASE_URL = r"https?://(?:127\.0\.0\.1|localhost):8000"
CURL_URL = re.compile(rf"curl[^\n]*?{BASE_URL}(/[^\s'\"?]*)")
# A README may name the base URL once (`B=http://127.0.0.1:8000`) and use `$B` after.
BASE_URL_VARIABLE = re.compile(rf"^(\w+)={BASE_URL}/?$", re.MULTILINE)


def readme(stage: Path) -> str:
    return (stage / "README.md").read_text()


def curl_paths(text: str) -> list[str]:
    for variable in BASE_URL_VARIABLE.findall(text):
        text = re.sub(rf"\$\{{?{variable}\b\}}?", "http://127.0.0.1:8000", text)
    paths: list[str] = CURL_URL.findall(text)
    return paths


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_the_root_readme_lists_every_stage(stage: Path) -> None:
    assert re.search(rf"^\|[^\n]*{re.escape(stage.name)}[^\n]*\|$", ROOT_README, re.MULTILINE)


def test_the_root_readme_gives_the_two_commands() -> None:
    assert "make run" in ROOT_README
    assert "make test" in ROOT_README


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_stage_readme_has_the_sections_a_learner_needs(stage: Path) -> None:
    text = readme(stage).lower()
    for section in ["what it teaches", "run", "endpoints", "exercises"]:
        assert re.search(rf"^#+ .*{section}", text, re.MULTILINE), section
    assert "```mermaid" in text


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_stage_readme_has_three_graded_exercises(stage: Path) -> None:
    text = readme(stage)
    exercises = text[text.lower().index("exercises") :]
    assert len(re.findall(r"^(?:#+|\d+\.|[-*]) ", exercises, re.MULTILINE)) >= 3


def is_routed(app: FastAPI, path: str) -> bool:
    """Asks the app's own router, so path parameters and included routers count as served."""
    scope = {"type": "http", "method": "GET", "path": path, "root_path": "", "headers": []}
    return any(route.matches(scope)[0] is not Match.NONE for route in app.router.routes)


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_curl_example_names_a_real_route(stage: Path) -> None:
    """A route of the stage's app, or of one of its services (behind the gateway, a path
    is one service's)."""
    apps = [
        importlib.import_module(f"{package}.main").create_app()
        for package in import_packages(stage)
    ]
    paths = curl_paths(readme(stage))
    assert paths, "the README should show curl examples"
    for path in paths:
        assert any(is_routed(app, path) for app in apps), f"{path} is not a route of {stage.name}"


@pytest.mark.parametrize("stage", STAGES, ids=STAGE_IDS)
def test_every_stage_documents_its_settings(stage: Path) -> None:
    example = (stage / ".env.example").read_text()
    assert re.search(r"^[A-Z]+_\w+=", example, re.MULTILINE)


# --- every command a README shows runs as written ---------------------------------------

READMES = sorted(
    path
    for path in [ROOT / "README.md", ROOT / "shared/README.md", *(s / "README.md" for s in STAGES)]
    if path.exists()
)
README_IDS = [str(path.relative_to(ROOT)) for path in READMES]
SHELL_BLOCK = re.compile(r"^```(?:sh|bash|shell)\n(.*?)^```", re.MULTILINE | re.DOTALL)
# Commands written inline in prose ("from this folder: `uv run python -m shop`").
INLINE_COMMAND = re.compile(r"`((?:make|uv run|cd) [^`]+)`")
# Programs a reader needs but this machine may lack, or that talk to a running server.
NOT_CHECKED_HERE = {"docker", "curl", "jq", "kill"}
SHELL_BUILTINS = {"export", "cd", "set", "unset", "echo", "source", ".", "wait"}
VENV_BIN = str(Path(sys.prefix) / "bin")
# What a reader's shell finds: the PATH without this test run's virtual environment, which
# `uv run` put first. A README that says `alembic ...` must say `uv run alembic ...`.
READER_PATH = os.pathsep.join(p for p in os.environ["PATH"].split(os.pathsep) if p != VENV_BIN)


def make_targets() -> set[str]:
    makefile = (ROOT / "Makefile").read_text()
    targets = set(re.findall(r"^([\w-]+(?: [\w-]+)*):(?!=)", makefile, re.MULTILINE))
    return {name for line in targets for name in line.split()}


def logical_lines(block: str) -> list[str]:
    """Lines with `\\` continuations and quotes spanning lines joined, comments removed."""
    lines: list[str] = []
    pending = ""
    for raw in block.splitlines():
        pending += raw.removesuffix("\\") + (" " if raw.endswith("\\") else "\n")
        if raw.endswith("\\"):
            continue
        try:
            words = shlex.split(pending, comments=True)
        except ValueError:  # a quote still open: the command goes on on the next line
            continue
        if words:
            lines.append(pending.strip())
        pending = ""
    return lines


def simple_commands(line: str) -> list[list[str]]:
    """`A && B | C; D &` as [A, B, C, D], each a list of words without leading VAR=value."""
    lexer = shlex.shlex(line, posix=True, punctuation_chars=";&|")
    lexer.whitespace_split = True
    lexer.commenters = "#"
    commands: list[list[str]] = [[]]
    for token in lexer:
        if token in {";", "&", "&&", "|", "||"}:
            commands.append([])
        else:
            commands[-1].append(token)
    result = []
    for command in commands:
        words = list(command)
        while words and re.match(r"^[A-Za-z_]\w*=", words[0]):
            words.pop(0)
        if words:
            result.append(words)
    return result


def readme_commands(readme_path: Path) -> list[tuple[Path, list[str]]]:
    """Each command of the README with the folder it runs in: the README's own, or, for a
    snippet that starts with `cd`, the repository root (where a reader of `make` is)."""
    text = readme_path.read_text()
    snippets = SHELL_BLOCK.findall(text) + INLINE_COMMAND.findall(text)
    found = []
    for snippet in snippets:
        cwd = ROOT if snippet.startswith("cd ") else readme_path.parent
        forks: set[Path] = set()
        for words in snippet_commands(snippet):
            if words[0] == "cd":
                cwd = (cwd / words[1]).resolve()
                if cwd in forks:
                    break  # the rest runs in a new fork: tests/test_fork.py runs it there
            if words[:2] == ["make", "fork"]:
                forks |= {
                    (cwd / w[len("DEST=") :]).resolve() for w in words if w.startswith("DEST=")
                }
            found.append((cwd, words))
    return found


def snippet_commands(snippet: str) -> list[list[str]]:
    commands = []
    for line in logical_lines(snippet):
        if "$(" in line or "`" in line:
            continue  # captures a server's answer: the curl examples are checked above
        commands.extend(simple_commands(line))
    return commands


def problem_with(cwd: Path, words: list[str]) -> str | None:
    """Why the command would fail as written, or None."""
    if words[0] in NOT_CHECKED_HERE or (words[0] in SHELL_BUILTINS and words[0] != "cd"):
        return None
    check = CHECKS.get(words[0], program_problem)
    return check(cwd, words)


def cd_problem(cwd: Path, words: list[str]) -> str | None:
    return None if cwd.is_dir() else f"no folder {cwd}"  # cwd is where `cd` went


def make_problem(cwd: Path, words: list[str]) -> str | None:
    unknown = {w for w in words[1:] if "=" not in w and not w.startswith("-")} - TARGETS
    return f"no make target {unknown}" if unknown else None


def uv_problem(cwd: Path, words: list[str]) -> str | None:
    if words[1:2] != ["run"]:
        return None
    rest = words[2:]
    while rest and rest[0].startswith("--"):
        rest = rest[2:] if rest[0] == "--package" else rest[1:]
    return in_venv(cwd, rest)


def python_problem(cwd: Path, words: list[str]) -> str | None:
    """Outside `uv run` a reader's Python has the standard library, not our packages."""
    if words[1:2] != ["-m"]:
        return None
    spec = importlib.util.find_spec(words[2])
    origin = str(spec.origin if spec else "")
    if "site-packages" in origin or origin.startswith(str(ROOT)):
        return f"`{words[0]} -m {words[2]}` needs `uv run` in front"
    return None


def program_problem(cwd: Path, words: list[str]) -> str | None:
    if shutil.which(words[0], path=READER_PATH) is None:
        return f"`{words[0]}` is not on a reader's PATH"
    if words[0] == "cp" and not (cwd / words[1]).exists():
        return f"no file {words[1]} in {cwd}"
    return None


CHECKS = {
    "cd": cd_problem,
    "make": make_problem,
    "uv": uv_problem,
    "python": python_problem,
    "python3": python_problem,
}


def in_venv(cwd: Path, words: list[str]) -> str | None:
    """What `uv run <words>` would fail on: a module, script or program that is missing."""
    if not words:
        return "`uv run` with nothing to run"
    if words[0] in {"python", "python3"}:
        if words[1:2] == ["-m"]:
            module = words[2]
            return None if importlib.util.find_spec(module) else f"no module {module}"
        if words[1:] and not words[1].startswith("-"):
            return None if (cwd / words[1]).is_file() else f"no script {cwd / words[1]}"
        return None
    return None if (Path(VENV_BIN) / words[0]).exists() else f"no program {words[0]} in .venv"


TARGETS = make_targets()


@pytest.mark.parametrize("readme_path", READMES, ids=README_IDS)
def test_every_command_in_a_readme_exists_as_written(readme_path: Path) -> None:
    problems = [
        f"{' '.join(words)}  (in {os.path.relpath(cwd, ROOT)}): {problem}"
        for cwd, words in readme_commands(readme_path)
        if (problem := problem_with(cwd, words)) is not None
    ]
    assert not problems, "\n".join(problems)


@pytest.mark.parametrize("readme_path", READMES, ids=README_IDS)
def test_every_make_command_in_a_readme_resolves(readme_path: Path) -> None:
    """Runs each `make` command dry (`make -n`): cheap, and it writes nothing."""
    for _, words in readme_commands(readme_path):
        if words[0] != "make":
            continue
        result = subprocess.run(  # noqa: S603 (make, with a README's arguments)
            ["make", "-n", *words[1:]],  # noqa: S607
            cwd=ROOT,  # every README's `make` is the root Makefile's
            capture_output=True,
            text=True,
            timeout=60,
            check=False,
        )
        assert result.returncode == 0, f"{' '.join(words)}: {result.stderr}"


def test_the_command_check_catches_what_used_to_fail() -> None:
    """The stage2-ecommerce block that failed before this check existed."""
    stage = ROOT / "stage2-ecommerce"
    assert problem_with(stage, ["alembic", "upgrade", "head"]) is not None
    assert problem_with(stage, ["python", "-m", "shop"]) is not None
    assert problem_with(stage, ["make", "no-such-target"]) is not None
    assert problem_with(stage, ["uv", "run", "python", "-m", "shop.nothing"]) is not None
    assert problem_with(stage, ["uv", "run", "python", "-m", "shop"]) is None


# --- every mermaid diagram parses with mermaid's own parser -----------------------------

MERMAID_TOOL = ROOT / "tools/mermaid"
MERMAID_BLOCK = re.compile(r"^```mermaid\n(.*?)^```", re.MULTILINE | re.DOTALL)


def parse_with_mermaid(diagrams: list[str]) -> list[str | None]:
    """mermaid.parse on each diagram, under node: None, or the parser's error."""
    if shutil.which("node") is None or not (MERMAID_TOOL / "node_modules/mermaid").exists():
        message = "node and `npm ci --prefix tools/mermaid` are needed to parse the diagrams"
        if os.environ.get("CI"):
            pytest.fail(message)  # in CI a missing tool must not pass as green
        pytest.skip(message)
    result = subprocess.run(  # noqa: S603
        ["node", str(MERMAID_TOOL / "parse.mjs")],  # noqa: S607
        input=json.dumps(diagrams),
        capture_output=True,
        text=True,
        timeout=120,
        check=True,
    )
    errors: list[str | None] = json.loads(result.stdout)
    return errors


def test_every_mermaid_diagram_parses() -> None:
    diagrams = [
        (str(path.relative_to(ROOT)), diagram)
        for path in READMES
        for diagram in MERMAID_BLOCK.findall(path.read_text())
    ]
    assert len(diagrams) >= 7
    errors = parse_with_mermaid([diagram for _, diagram in diagrams])
    failures = [
        f"{place}: {error}" for (place, _), error in zip(diagrams, errors, strict=True) if error
    ]
    assert not failures, "\n\n".join(failures)


def test_the_mermaid_check_finds_a_broken_diagram() -> None:
    """A `;` inside a sequence message ends the statement: what broke two diagrams."""
    [error] = parse_with_mermaid(["sequenceDiagram\n    A->>B: read it; check it\n"])
    assert error is not None
    assert "Parse error" in error


def test_make_help_lists_the_variables_the_readmes_use() -> None:
    result = subprocess.run(
        ["make", "help"],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        timeout=60,
        check=True,
    )
    for variable in ["STAGE", "PORT", "RELOAD", "FROM", "TO"]:
        assert re.search(rf"^  {variable}\b", result.stdout, re.MULTILINE), variable


@pytest.mark.parametrize(("stage", "package"), PACKAGES, ids=PACKAGE_IDS)
def test_every_stage_starts_through_the_one_shared_entry(stage: Path, package: str) -> None:
    """`python -m <stage>` is run_stage, so every stage has the same options and messages."""
    main = (stage / "src" / package / "__main__.py").read_text()
    assert re.search(rf'^    run_stage\("{package}"[,)]', main, re.MULTILINE)
