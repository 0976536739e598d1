"""Graded exercises check themselves: on a fork of the stage, each exercise fails with a
message saying what to build, its reference solution (exercises/N/solution.patch) makes it
pass, and the stage's own suite and lint stay green with every solution applied."""

import re
from pathlib import Path

import pytest

from tests.forks import fork, run
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


@pytest.mark.parametrize("stage", GRADED, ids=[stage.name for stage in GRADED])
def test_the_solutions_turn_each_exercise_green_and_keep_the_suite_green(
    stage: Path, tmp_path: Path
) -> None:
    project = fork(stage, tmp_path / stage.name)
    before = run(["make", "exercise"], project, check=False)
    assert before.returncode != 0, "the exercises must fail on the reference stage"
    for number in exercises(stage):
        assert re.search(rf"Exercise {number}: \S", before.stdout), (
            f"exercise {number} fails without saying what to build:\n{before.stdout[-3000:]}"
        )

    patches = sorted(project.glob("exercises/*/solution.patch"))
    names = [str(patch.relative_to(project)) for patch in patches]
    if all(run(["git", "apply", name], project, check=False).returncode == 0 for name in names):
        passes_with_the_solution(project, "exercise")
        return
    # Solutions that touch the same lines are proven one at a time, each on a clean fork.
    for number, name in zip(exercises(stage), names, strict=True):
        back_to_the_fork(project)
        run(["git", "apply", name], project)
        passes_with_the_solution(project, f"exercise N={number}")


def back_to_the_fork(project: Path) -> None:
    run(["git", "checkout", "--", "."], project)
    run(["git", "clean", "-fdq"], project)  # new files; .venv is ignored, so it stays


def passes_with_the_solution(project: Path, exercise: str) -> None:
    for target in [exercise, "test", "lint"]:
        result = run(["make", *target.split()], project, check=False)
        assert result.returncode == 0, (
            f"make {target}:\n{result.stdout[-3000:]}{result.stderr[-2000:]}"
        )


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
