"""`make fork STAGE=<stage> DEST=<folder>`: one stage as a standalone project you own.

The fork holds the stage's code, the modules of `roadmap_shared` it imports (as the
workspace member `shared/`, so the name `roadmap-shared`, which is not ours on PyPI, is
never looked up in an index), a `pyproject.toml` with the dev tools and their ruff and
mypy settings, a `uv.lock` pinned to the monorepo's versions (resolved offline, from uv's
cache), a Makefile, the Dockerfiles and a compose file that build from the fork's root, the
CI workflow, the licence, a README, and a git repository with one commit.

A stage split into services (one package per service under src/, `<service>.Dockerfile`
each, compose services `<stage>-<name>`) forks the same way: every file below works from
what the stage folder and the monorepo's compose file hold, so a service added there is
in the next fork; only the Makefile and the README say more (fork_templates).
"""

import argparse
import ast
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import yaml

from scripts.fork_templates import github_workflow, makefile, readme

ROOT = Path(__file__).resolve().parent.parent
SHARED_SOURCE = ROOT / "shared" / "src"
SHARED_PACKAGE = "roadmap_shared"
# Modules a fork runs by name rather than imports: the test harness (pytest -p) and the
# migration command (`make migrate`).
SHARED_ENTRY_POINTS = {
    "roadmap_shared.testing.plugin",
    "roadmap_shared.upgrade_database",
    "roadmap_shared.healthcheck",
}
LEFT_OUT = {".venv", "__pycache__", ".pytest_cache", ".mypy_cache", ".ruff_cache", "data"}


def import_packages(stage: Path) -> list[str]:
    return [init.parent.name for init in sorted((stage / "src").glob("*/__init__.py"))]


def dockerfiles(stage: Path) -> list[Path]:
    """`Dockerfile`, or one `<service>.Dockerfile` per service of a split stage."""
    return sorted([*stage.glob("Dockerfile"), *stage.glob("*.Dockerfile")])


def imported_modules(source: Path, module: str) -> set[str]:
    """The absolute names of the modules `source` (the module `module`) imports."""
    names: set[str] = set()
    package = module if source.name == "__init__.py" else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source.read_text())):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parent = package.rsplit(".", node.level - 1)[0] if node.level > 1 else package
                base = f"{parent}.{base}" if base else parent
            names.add(base)
            # `from package import module` imports a module, not a name.
            names.update(f"{base}.{alias.name}" for alias in node.names)
    return names


def shared_module_file(module: str) -> Path | None:
    path = SHARED_SOURCE / Path(*module.split("."))
    for candidate in (path.with_suffix(".py"), path / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def shared_modules_used(stage: Path) -> set[Path]:
    """The files of `roadmap_shared` the stage imports, directly or through other modules."""
    wanted = set(SHARED_ENTRY_POINTS)
    for source in stage.rglob("*.py"):
        if not set(source.parts) & LEFT_OUT:
            wanted |= imported_modules(source, "")
    files: set[Path] = set()
    pending = sorted(name for name in wanted if name.split(".")[0] == SHARED_PACKAGE)
    while pending:
        module = pending.pop()
        parts = module.split(".")
        # A module needs each package above it (their __init__ runs first).
        for depth in range(1, len(parts) + 1):
            found = shared_module_file(".".join(parts[:depth]))
            if found is None or found in files:
                continue
            files.add(found)
            module_name = ".".join(parts[:depth])
            pending.extend(
                name
                for name in imported_modules(found, module_name)
                if name.split(".")[0] == SHARED_PACKAGE
            )
    return files


def ignored(_folder: str, names: list[str]) -> set[str]:
    return {name for name in names if name in LEFT_OUT or name.endswith((".pyc", ".db"))}


def toml_sections(text: str) -> dict[str, str]:
    """A TOML file's top-level tables as text, by header (enough for our own files)."""
    sections: dict[str, str] = {}
    header, pending = "", ""  # comments just above a header belong to its table
    for line in text.splitlines(keepends=True):
        if match := re.match(r"^\[\[?([^\]]+)\]\]?\s*$", line):
            header, line = match.group(1), pending + line  # noqa: PLW2901
            pending = ""
        elif line.startswith("#") or not line.strip():
            pending += line
            continue
        sections[header] = sections.get(header, "") + pending + line
        pending = ""
    return sections


def fork_pyproject(stage: Path, packages: list[str]) -> str:
    """The stage's own pyproject, plus what the monorepo root gave it: the workspace, the dev
    tools, and the ruff and mypy settings (with paths for the new layout)."""
    own = (stage / "pyproject.toml").read_text()
    root = toml_sections((ROOT / "pyproject.toml").read_text())
    keep = ["dependency-groups", "tool.ruff", "tool.ruff.lint", "tool.ruff.lint.per-file-ignores"]
    keep += ["tool.ruff.lint.isort", "tool.mypy", "tool.mypy.overrides"]
    tools = "".join(root[name] for name in keep)
    first_party = ", ".join(f'"{name}"' for name in [SHARED_PACKAGE, *packages])
    tools = re.sub(r"known-first-party = \[.*\]", f"known-first-party = [{first_party}]", tools)
    tools = re.sub(
        r"# mypy runs once per member.*?\]\n",
        "# The fork and its copy of the shared library, checked in one run.\n"
        'mypy_path = ["$MYPY_CONFIG_FILE_DIR/src", "$MYPY_CONFIG_FILE_DIR/shared/src"]\n',
        tools,
        flags=re.DOTALL,
    )
    workspace = (
        "# `shared/` is a workspace member: `roadmap-shared` resolves to that folder only,\n"
        "# never to a package index (the name is not ours on PyPI).\n"
        '[tool.uv.workspace]\nmembers = ["shared"]\n\n'
    )
    return f"{own.rstrip()}\n\n{workspace}{tools.rstrip()}\n"


def shared_pyproject() -> str:
    """shared/'s pyproject without its test settings: the fork carries no tests for it."""
    sections = toml_sections((ROOT / "shared" / "pyproject.toml").read_text())
    sections.pop("tool.pytest.ini_options", None)
    return "".join(sections.values()).rstrip() + "\n"


def copy_shared(stage: Path, destination: Path) -> None:
    for source in shared_modules_used(stage):
        target = destination / "src" / source.relative_to(SHARED_SOURCE)
        target.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(source, target)
        if source.parent.joinpath("py.typed").exists():
            shutil.copyfile(source.parent / "py.typed", target.parent / "py.typed")
    # Non-Python files a module loads at run time (the offline docs' assets, and so on).
    for data in SHARED_SOURCE.rglob("*"):
        relative = data.relative_to(SHARED_SOURCE)
        if (
            data.is_file()
            and data.suffix not in {".py", ".pyc"}
            and "__pycache__" not in relative.parts
            and (destination / "src" / relative.parent).is_dir()
        ):
            shutil.copyfile(data, destination / "src" / relative)
    (destination / "pyproject.toml").write_text(shared_pyproject())


def dockerfile(stage: Path, source: Path) -> str:
    """One of the stage's Dockerfiles, with its paths made relative to the fork's root."""
    text = source.read_text()
    text = re.sub(rf"COPY {stage.name} /src/{stage.name}\b", "COPY . /src/app", text)
    text = text.replace(f"/src/{stage.name}", "/src/app")
    text = re.sub(rf"-f {stage.name}/Dockerfile -t {stage.name}", f"-t {stage.name}", text)
    for monorepo_words in (
        "from the repository root (the stage needs shared/ and the workspace lock)",
        "from the repository root (it needs shared/ and the lock file)",
    ):
        text = text.replace(monorepo_words, "from this folder (it needs shared/ and uv.lock)")
    return text.replace(f"{stage.name}/", "")


class ComposeDumper(yaml.SafeDumper):
    """Writes each service out in full: the monorepo shares settings between services with
    anchors, which would come out as `&id001` and `*id001` in the fork's file."""

    def ignore_aliases(self, data: Any) -> bool:
        return True


def services_needed(own: dict[str, dict[str, Any]], services: dict[str, Any]) -> set[str]:
    """The monorepo's services the stage's own ones wait for (depends_on) or reach by host
    name in their settings (amqp://guest:guest@rabbitmq:5672/, and so on)."""
    needed = set()
    for service in own.values():
        needed |= set(service.get("depends_on", {}))
        for value in service.get("environment", {}).values():
            needed |= {name for name in services if re.search(rf"[/@]{name}:", str(value))}
    return needed - set(own)


def compose_file(stage: Path) -> str:
    """The monorepo's compose services this stage uses, building from the fork's root: the
    stage's own (`<stage>` and `<stage>-<name>`: its workers, the services of a split
    stage, its gateway), and the servers they need."""
    everything = yaml.safe_load((ROOT / "docker-compose.yml").read_text())
    services = everything["services"]
    own = {
        name: services[name]
        for name in services
        if name == stage.name or name.startswith(f"{stage.name}-")
    }
    chosen: dict[str, dict[str, Any]] = {}
    for name in sorted(services_needed(own, services)):
        service = dict(services[name])
        # The stage uses it, so it starts with the others rather than behind a profile.
        service.pop("profiles", None)
        # Each container creates its own database on start (roadmap_shared.upgrade_database):
        # the monorepo's script that creates every stage's database stays behind.
        if named := [v for v in service.pop("volumes", []) if not v.startswith(".")]:
            service["volumes"] = named
        chosen[name] = service
    for name, service in own.items():
        chosen[name] = dict(service)
        if "build" in service:  # a service from an image (a load balancer) keeps it
            built_from = Path(service["build"]["dockerfile"]).relative_to(stage.name)
            chosen[name]["build"] = {"context": ".", "dockerfile": str(built_from)}
        if "volumes" in service:  # files of the stage's folder are at the fork's root
            chosen[name]["volumes"] = [
                volume.replace(f"./{stage.name}/", "./", 1) for volume in service["volumes"]
            ]
    volumes = {
        volume.split(":")[0]
        for service in chosen.values()
        for volume in service.get("volumes", [])
        if not volume.startswith(".")
    }
    document: dict[str, Any] = {"name": stage.name, "services": chosen}
    if volumes:
        document["volumes"] = dict.fromkeys(sorted(volumes))
    header = f"# {stage.name}: `docker compose up --build` runs it with the servers it needs.\n"
    return header + yaml.dump(document, Dumper=ComposeDumper, sort_keys=False)


def run(command: list[str], cwd: Path, *, offline: bool = False) -> str:
    environment = {**os.environ, "UV_OFFLINE": "1"} if offline else None
    done = subprocess.run(  # noqa: S603  (our own commands, no shell)
        command, cwd=cwd, env=environment, capture_output=True, text=True, check=False
    )
    if done.returncode != 0:
        raise SystemExit(f"{' '.join(command)} failed:\n{done.stdout}{done.stderr}")
    return done.stdout


def lock(destination: Path) -> None:
    """Resolves the fork's lock, preferring the monorepo's pinned versions: uv keeps what an
    existing uv.lock pins, so the monorepo's lock is the starting point. Offline first, from
    uv's cache (fast, and works without a network); a fresh machine whose cache holds only
    the wheels `uv sync` installed has no index pages to resolve from, so then online."""
    shutil.copyfile(ROOT / "uv.lock", destination / "uv.lock")
    uv_lock = [os.environ.get("UV", "uv"), "lock", "--quiet"]
    try:
        run(uv_lock, destination, offline=True)
    except SystemExit:
        run(uv_lock, destination)


def commit(destination: Path, stage: Path) -> None:
    run(["git", "-c", "init.defaultBranch=main", "init", "--quiet"], destination)
    run(["git", "add", "--all"], destination)
    # A fresh machine may have no git identity yet; the learner's own is used when set.
    asked = ["git", "config", "user.email"]
    known = subprocess.run(asked, cwd=destination, capture_output=True, check=False)  # noqa: S603
    identity = (
        []
        if known.returncode == 0
        else ["-c", "user.name=Backend Roadmap", "-c", "user.email=fork@localhost"]
    )
    message = f"Fork of Backend Roadmap's {stage.name}"
    run(["git", *identity, "commit", "--quiet", "-m", message], destination)


def fork(stage: Path, destination: Path) -> None:
    if destination.exists() and any(destination.iterdir()):
        raise SystemExit(f"{destination} exists and is not empty; choose a new folder")
    packages = import_packages(stage)
    shutil.copytree(stage, destination, ignore=ignored, dirs_exist_ok=True)
    copy_shared(stage, destination / "shared")
    (destination / "pyproject.toml").write_text(fork_pyproject(stage, packages))
    for source in dockerfiles(stage):
        (destination / source.name).write_text(dockerfile(stage, source))
    (destination / "docker-compose.yml").write_text(compose_file(stage))
    (destination / "Makefile").write_text(makefile(stage, packages))
    workflows = destination / ".github" / "workflows"
    workflows.mkdir(parents=True)
    (workflows / "ci.yml").write_text(github_workflow(ROOT / ".github/workflows/ci.yml"))
    (destination / "README.md").write_text(
        readme(stage, (stage / "README.md").read_text(), packages)
    )
    shutil.copyfile(ROOT / "LICENSE", destination / "LICENSE")
    shutil.copyfile(ROOT / ".dockerignore", destination / ".dockerignore")
    gitignore = (ROOT / ".gitignore").read_text().replace(f"{stage.name}/", "")
    (destination / ".gitignore").write_text(re.sub(r"^stage\S*\n", "", gitignore, flags=re.M))
    lock(destination)
    commit(destination, stage)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage", help="a stage folder, e.g. stage3-blog")
    parser.add_argument("destination", type=Path, help="a new folder for your project")
    arguments = parser.parse_args()
    stage = ROOT / arguments.stage
    if not (stage / "src").is_dir():
        print(f"{arguments.stage} is not a stage folder", file=sys.stderr)
        return 2
    fork(stage, arguments.destination.resolve())
    print(f"forked {stage.name} into {arguments.destination}: cd there, then `make test`")
    return 0


if __name__ == "__main__":
    sys.exit(main())
