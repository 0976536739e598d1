"""Writes or applies the reference solution of a graded exercise.

    python scripts/exercise_patch.py STAGE N            # save: the stage's changes -> patch
    python scripts/exercise_patch.py STAGE N --apply    # load: patch -> the stage's files

A solution is kept as `STAGE/exercises/N/solution.patch`, with paths relative to the stage
folder, so that it applies as it is to a fork (`git apply` at the fork's root) and, with
`--directory`, to the stage here. To change a solution, or to regenerate one after the
stage's code moved under it: start from a clean tree, `--apply` it (a 3-way merge, so
conflicts show as conflict markers), finish the change until `make exercise STAGE=… N=…`
and `make test-stageN` pass, save it, then discard the stage's other changes, keeping the
patch: `git checkout -- STAGE/src STAGE/tests` (and any other file the solution touches,
such as the README or .env.example) `&& git clean -fd STAGE/src STAGE/tests`.
"""

import argparse
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent


def git(*arguments: str) -> str:
    done = subprocess.run(  # noqa: S603  (our own commands, no shell)
        ["git", *arguments],  # noqa: S607
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"git {' '.join(arguments)} failed:\n{done.stderr}")
    return done.stdout


def patch_path(stage: str, number: int) -> Path:
    return ROOT / stage / "exercises" / str(number) / "solution.patch"


def save(stage: str, number: int) -> Path:
    """The stage's uncommitted changes (new files included), minus the exercises."""
    scope = [
        "--",
        stage,
        f":(exclude){stage}/exercises",
        f":(exclude){stage}/tests/exercises",
    ]
    new_files = git("ls-files", "--others", "--exclude-standard", *scope).split()
    if new_files:  # a diff shows files git knows about: announce the new ones, for now
        git("add", "--intent-to-add", "--", *new_files)
    try:
        diff = git("diff", "--binary", f"--relative={stage}", "HEAD", *scope)
    finally:
        if new_files:
            git("reset", "--quiet", "--", *new_files)
    if not diff:
        raise SystemExit(f"{stage} has no changes: build the solution first")
    target = patch_path(stage, number)
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(diff)
    return target


def apply(stage: str, number: int) -> None:
    git("apply", "--3way", f"--directory={stage}", str(patch_path(stage, number)))


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("stage")
    parser.add_argument("number", type=int)
    parser.add_argument("--apply", action="store_true", help="apply the saved solution")
    options = parser.parse_args()
    if options.apply:
        apply(options.stage, options.number)
        print(f"applied {patch_path(options.stage, options.number).relative_to(ROOT)}")
    else:
        print(f"wrote {save(options.stage, options.number).relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
