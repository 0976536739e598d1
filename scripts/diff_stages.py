"""`make diff FROM=<stage> TO=<stage>`: what one stage adds to another, without the noise.

Both stages are copied to a temporary folder with their import package renamed to
`<pkg>` (in paths and in the code), and without lock files, caches, data, and migration
boilerplate (revision files, env.py, the script template). `git diff --no-index` then
shows the concepts that changed, not the renames.
"""

import re
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "<pkg>"
LEFT_OUT_DIRS = {
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "data",
    "uploads",
    "versions",
}
LEFT_OUT_FILES = {"uv.lock", "env.py", "script.py.mako"}


def import_package(stage: Path) -> str:
    [init] = sorted((stage / "src").glob("*/__init__.py"))
    return init.parent.name


def normalised_copy(stage: Path, destination: Path) -> None:
    package = import_package(stage)
    pattern = re.compile(rf"\b{re.escape(package)}\b")
    for source in sorted(stage.rglob("*")):
        relative = source.relative_to(stage)
        if set(relative.parts) & LEFT_OUT_DIRS or not source.is_file():
            continue
        if source.name in LEFT_OUT_FILES or source.suffix in {".pyc", ".db"}:
            continue
        target = destination / Path(*(PLACEHOLDER if p == package else p for p in relative.parts))
        target.parent.mkdir(parents=True, exist_ok=True)
        try:
            target.write_text(pattern.sub(PLACEHOLDER, source.read_text()))
        except UnicodeDecodeError:  # binary files are compared as they are
            shutil.copyfile(source, target)


def main(before: str, after: str) -> int:
    stages = [ROOT / before, ROOT / after]
    for stage in stages:
        if not (stage / "src").is_dir():
            print(f"{stage.name} is not a stage folder", file=sys.stderr)
            return 2
    with tempfile.TemporaryDirectory() as scratch:
        for stage in stages:
            normalised_copy(stage, Path(scratch) / stage.name)
        print(f"{before} -> {after} (import packages shown as {PLACEHOLDER})\n")
        diff = ["git", "diff", "--no-index", "--color=auto", "--stat", "--patch"]
        subprocess.run([*diff, before, after], cwd=scratch, check=False)  # noqa: S603
    return 0


if __name__ == "__main__":
    if len(sys.argv) != 3:
        sys.exit("usage: python scripts/diff_stages.py <from-stage> <to-stage>")
    sys.exit(main(sys.argv[1], sys.argv[2]))
