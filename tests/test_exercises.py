"""Graded exercises check themselves: on a fork of the stage, each exercise fails with a
message saying what to build, its reference solution (exercises/N/solution.patch) makes it
pass, and the fork's own suite and lint stay green with every solution applied."""

import re
from pathlib import Path

import pytest

from tests.forks import run
from tests.stages import ROOT, STAGES

GRADED = [stage for stage in STAGES if (stage / "tests" / "exercises").is_dir()]


def exercises(stage: Path) -> list[int]:
    tests = (stage / "tests" / "exercises").glob("test_exercise_*.py")
    return sorted(int(test.stem.rsplit("_", 1)[1]) for test in tests)


@pytest.mark.parametrize("stage", GRADED, ids=[stage.name for stage in GRADED])
def test_each_exercise_has_a_test_a_solution_and_readme_text(stage: Path) -> None:
    assert exercises(stage) == [1, 2, 3]
    readme = (stage / "README.md").read_text()
    section = readme[readme.index("## Exercises") :]
    for number in exercises(stage):
        assert (stage / "exercises" / str(number) / "solution.patch").is_file()
        assert f"make exercise STAGE={stage.name} N={number}" in section
    for word in ["easy", "medium", "hard", "Hint"]:
        assert word in section, word


def test_the_exercises_are_left_out_of_the_ordinary_suites() -> None:
    for stage in STAGES:
        assert "-m 'not exercise'" in (stage / "pyproject.toml").read_text(), stage.name


def test_the_fork_passes_make_test_and_make_lint_with_every_solution(
    forked: tuple[Path, Path],
) -> None:
    """The fork's own `make test` and `make lint` pass with each exercise's solution applied.
    Solutions that apply together are proven together; one that touches lines another
    touched is proven on a clean fork, with the others that apply beside it: a suite run
    costs a minute or two, so solutions share runs where they can."""
    stage, project = forked
    patches = {n: f"exercises/{n}/solution.patch" for n in exercises(stage)}
    if patches:
        before = run(["make", "exercise"], project, check=False)
        assert before.returncode != 0, "the exercises must fail on the reference stage"
        for number in patches:
            assert re.search(rf"Exercise {number}: \S", before.stdout), (
                f"exercise {number} fails without saying what to build:\n{before.stdout[-3000:]}"
            )
    waiting = list(patches)
    try:
        while True:
            applied = [n for n in waiting if applies(patches[n], project)]
            if waiting and not applied:
                pytest.fail(f"{stage.name}: {patches[waiting[0]]} does not apply to the fork")
            for target in [*(f"exercise N={n}" for n in applied), "test", "lint"]:
                result = run(["make", *target.split()], project, check=False)
                assert result.returncode == 0, (
                    f"solutions {applied}, make {target}:\n"
                    f"{result.stdout[-3000:]}{result.stderr[-2000:]}"
                )
            waiting = [n for n in waiting if n not in applied]
            if not waiting:
                break
            back_to_the_fork(project)
    finally:
        back_to_the_fork(project)


def applies(patch: str, project: Path) -> bool:
    return run(["git", "apply", patch], project, check=False).returncode == 0


def back_to_the_fork(project: Path) -> None:
    run(["git", "checkout", "--", "."], project)
    run(["git", "clean", "-fdq"], project)  # new files; .venv is ignored, so it stays


def test_a_solution_patch_applies_to_the_stage_here() -> None:
    for stage in GRADED:
        for patch in sorted((stage / "exercises").glob("*/solution.patch")):
            checked = run(
                ["git", "apply", "--check", f"--directory={stage.name}", str(patch)],
                ROOT,
                check=False,
            )
            assert checked.returncode == 0, (
                f"{patch}: regenerate it (scripts/exercise_patch.py)\n{checked.stderr}"
            )
