"""Runs test suites, each in its own process, and prints one summary table.

Usage: python scripts/run_suites.py [--group NAME] [--coverage] SUITE_DIR ...

Each suite runs as `uv run --locked --package <its package> python -m pytest` from its own
folder, so it uses its own pytest settings (and its own `tests` package). Counts come from
pytest's JUnit XML report. A suite whose services are missing is stopped by the harness
before its first test; the one line saying why is repeated under the table. The last line
is `N passed, M failed` summed over all suites; the exit status is non-zero if anything
failed. With --coverage, each member's code is measured (pytest-cov) into an HTML report
under .test-results/coverage/<suite>/, and a member below its floor (`fail_under` in the
`[tool.coverage.report]` table of its pyproject.toml) fails.
"""

import argparse
import os
import subprocess
import sys
import time
import tomllib
import xml.etree.ElementTree as ET
from dataclasses import dataclass
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / ".test-results"


@dataclass
class Outcome:
    suite: str
    passed: int = 0
    failed: int = 0
    skipped: int = 0
    seconds: float = 0.0
    stopped_because: str = ""  # the harness's one line, when it stopped the suite at start


def package_of(suite: Path) -> str | None:
    """The workspace member's name, or None for the repository-level tests."""
    pyproject = suite / "pyproject.toml"
    if suite == ROOT or not pyproject.exists():
        return None
    name: str = tomllib.loads(pyproject.read_text())["project"]["name"]
    return name


def counts_from_junit(report: Path) -> tuple[int, int, int]:
    root = ET.parse(report).getroot()  # noqa: S314  (our own pytest wrote this file)
    suites = [root] if root.tag == "testsuite" else list(root.iter("testsuite"))
    total = failed = skipped = 0
    for suite in suites:
        total += int(suite.get("tests", 0))
        failed += int(suite.get("failures", 0)) + int(suite.get("errors", 0))
        skipped += int(suite.get("skipped", 0))
    return total - failed - skipped, failed, skipped


def coverage_options(name: str) -> list[str]:
    """pytest-cov measures the member's src/ (lines and branches); its floor comes from
    its pyproject.toml, and pytest fails the suite when the total is below it."""
    html = RESULTS / "coverage" / name
    return ["--cov=src", "--cov-branch", f"--cov-report=html:{html}", "--cov-report="]


def run_suite(folder: str, *, coverage: bool = False) -> Outcome:
    suite = (ROOT / folder).resolve()
    name = "repository" if suite == ROOT / "tests" else folder
    workdir = ROOT if suite == ROOT / "tests" else suite
    report = RESULTS / f"{name}.xml"
    report.unlink(missing_ok=True)
    stop_reason = RESULTS / f"{name}.stopped"
    stop_reason.unlink(missing_ok=True)
    command = [os.environ.get("UV", "uv"), "run", "--locked"]
    if (package := package_of(workdir)) is not None:
        command += ["--package", package]
    command += ["python", "-m", "pytest", "-q", f"--junitxml={report}"]
    if coverage and package is not None:
        command += coverage_options(name)
    if workdir == ROOT:
        command.append("tests")
    print(f"\n=== {name} ===", flush=True)
    started = time.perf_counter()
    environment = os.environ | {"HARNESS_STOP_REASON_FILE": str(stop_reason)}
    status = subprocess.run(command, cwd=workdir, env=environment, check=False).returncode  # noqa: S603
    outcome = Outcome(name, seconds=time.perf_counter() - started)
    if stop_reason.exists():
        outcome.stopped_because = stop_reason.read_text().strip()
    if report.exists():
        outcome.passed, outcome.failed, outcome.skipped = counts_from_junit(report)
    # pytest exits 0 (all passed) or 1 (tests failed); anything else means the run itself
    # broke (collection, usage, internal error) and counts as a failure of its own.
    if status not in (0, 1) or (status == 1 and outcome.failed == 0):
        outcome.failed += 1
    return outcome


def print_table(outcomes: list[Outcome]) -> None:
    print(f"\n{'suite':<22}{'passed':>8}{'failed':>8}{'skipped':>9}{'seconds':>9}")
    for o in outcomes:
        print(f"{o.suite:<22}{o.passed:>8}{o.failed:>8}{o.skipped:>9}{o.seconds:>9.1f}")
    for o in outcomes:
        if o.stopped_because:
            print(f"{o.suite} stopped: {o.stopped_because}")
    passed = sum(o.passed for o in outcomes)
    failed = sum(o.failed for o in outcomes)
    print(f"{passed} passed, {failed} failed")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--group", help="the stage group being run, for the empty message")
    parser.add_argument(
        "--coverage", action="store_true", help="measure coverage, enforce the floors"
    )
    parser.add_argument("suites", nargs="*")
    args = parser.parse_args()
    if not args.suites:
        print(f"{args.group or 'this group'}: no stage folders yet, nothing to test")
        print("0 passed, 0 failed")
        return 0
    RESULTS.mkdir(exist_ok=True)
    os.environ.setdefault("UV_PYTHON_DOWNLOADS", "never")
    outcomes = [run_suite(suite, coverage=args.coverage) for suite in args.suites]
    print_table(outcomes)
    return 1 if any(o.failed for o in outcomes) else 0


if __name__ == "__main__":
    sys.exit(main())
