"""`make diff` aligns two stages' files by role and starts with a short summary."""

from pathlib import Path

import pytest

from scripts.diff_stages import compare, role_of
from scripts.topics import load_topics
from tests.stages import ROOT, STAGES


@pytest.mark.parametrize(
    ("path", "role"),
    [
        ("src/<pkg>/main.py", "main"),
        ("src/<pkg>/config.py", "config"),
        ("src/<pkg>/models.py", "models"),
        ("src/<pkg>/models/user.py", "models"),
        ("src/<pkg>/users/router.py", "users router"),
        ("src/<pkg>/articles/repository.py", "articles repository"),
        ("tests/test_users.py", "tests users"),
        ("tests/conftest.py", "tests conftest"),
        ("pyproject.toml", "pyproject.toml"),
    ],
)
def test_a_file_gets_the_same_role_in_every_stage(path: str, role: str) -> None:
    assert role_of(Path(path)) == role


def test_the_summary_comes_first_with_the_topics_added() -> None:
    output = compare(ROOT / "stage2-auth", ROOT / "stage3-blog", full=False)
    summary = output[: output.index(next(line for line in output if line.startswith("====")))]
    assert len(summary) < 80, "a summary a learner reads in a minute"
    added = [t.name for t in load_topics() if "stage3-blog" in t.stages]
    added = [
        name
        for name in added
        if name not in {t.name for t in load_topics() if "stage2-auth" in t.stages}
    ]
    assert added
    [topics_line] = [line for line in summary if line.startswith("Topics added:")]
    assert all(name in topics_line for name in added)
    # Roles both stages have are aligned, whatever the files are called.
    assert any(line.split()[:1] == ["dependencies"] for line in summary)
    assert any(line.strip().startswith("articles") for line in summary), "a new domain"


def test_only_files_of_the_same_role_are_diffed_by_default() -> None:
    brief = compare(ROOT / "stage2-auth", ROOT / "stage3-blog", full=False)
    full = compare(ROOT / "stage2-auth", ROOT / "stage3-blog", full=True)
    shown = {line.removeprefix("==== ") for line in brief if line.startswith("==== ")}
    assert "main" in shown
    assert "dependencies" in shown
    assert not any(role.startswith(("articles", "tasks")) for role in shown), "one-sided roles"
    assert len(brief) < len(full) / 2
    assert "==== articles router" in full


def test_package_and_folder_names_do_not_count_as_changes() -> None:
    output = compare(ROOT / "stage2-auth", ROOT / "stage3-blog", full=True)
    changed = [line for line in output if line.startswith(("+", "-"))]
    assert not any(
        "auth_service" in line or "conduit" in line.split("/")[0]
        for line in changed
        if "import" in line
    )


@pytest.mark.parametrize("stage", STAGES, ids=[stage.name for stage in STAGES])
def test_a_stage_compared_with_itself_has_nothing_to_show(stage: Path) -> None:
    output = compare(stage, stage, full=False)
    assert not any(line.startswith("====") for line in output)
