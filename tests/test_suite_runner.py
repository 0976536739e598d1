"""`make test` prints a table and a last line summed over all suites; its counts come from
pytest's JUnit report."""

import importlib.util
import tomllib
from pathlib import Path
from types import ModuleType

import pytest

from tests.stages import ROOT, STAGES


def load_runner() -> ModuleType:
    spec = importlib.util.spec_from_file_location("run_suites", ROOT / "scripts/run_suites.py")
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


RUNNER = load_runner()


def test_counts_are_read_from_a_junit_report(tmp_path: Path) -> None:
    report = tmp_path / "report.xml"
    report.write_text(
        '<testsuites><testsuite tests="10" failures="1" errors="1" skipped="2">'
        "</testsuite></testsuites>"
    )
    assert RUNNER.counts_from_junit(report) == (6, 2, 2)


def test_the_table_ends_with_the_summed_line(capsys: pytest.CaptureFixture[str]) -> None:
    RUNNER.print_table(
        [RUNNER.Outcome("shared", 5, 0, 1, 1.0), RUNNER.Outcome("stage1", 7, 2, 0, 2.0)]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0].split() == ["suite", "passed", "failed", "skipped", "seconds"]
    assert lines[-1] == "12 passed, 2 failed"


def test_a_suite_stopped_by_the_harness_is_explained_once_under_the_table(
    capsys: pytest.CaptureFixture[str],
) -> None:
    reason = "Redis is not reachable at 127.0.0.1:1 (TEST_REDIS_URL). Start it ..."
    RUNNER.print_table(
        [
            RUNNER.Outcome("stage2-auth", 0, 1, 0, 1.0, stopped_because=reason),
            RUNNER.Outcome("stage1", 7, 0, 0, 2.0),
        ]
    )
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[-2:] == [f"stage2-auth stopped: {reason}", "7 passed, 1 failed"]


def test_an_empty_stage_group_passes(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr("sys.argv", ["run_suites.py", "--group", "stage4"])
    assert RUNNER.main() == 0
    assert capsys.readouterr().out.splitlines() == [
        "stage4: no stage folders yet, nothing to test",
        "0 passed, 0 failed",
    ]


@pytest.mark.parametrize("member", ["shared", *(stage.name for stage in STAGES)])
def test_every_member_has_a_coverage_floor(member: str) -> None:
    pyproject = tomllib.loads((ROOT / member / "pyproject.toml").read_text())
    assert 50 <= pyproject["tool"]["coverage"]["report"]["fail_under"] <= 100


def test_coverage_measures_each_member_into_its_own_html_report() -> None:
    command = RUNNER.coverage_options("stage2-auth")
    assert "--cov=src" in command
    assert f"--cov-report=html:{RUNNER.RESULTS / 'coverage' / 'stage2-auth'}" in command
