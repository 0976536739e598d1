"""Programs a test runs that are not Python packages (promtool, nginx, node...)."""

import os
import shutil

import pytest


def find_program(name: str) -> str | None:
    """The path of `name` on the PATH or in /usr/sbin, where Debian installs daemons such
    as nginx and which a non-root PATH may not name; None when it is not installed."""
    return shutil.which(name) or shutil.which(name, path="/usr/sbin")


def required_program(name: str, install: str) -> str:
    """The path of `name`, or the test stops: skipped on a developer's machine, saying how
    to get it (`install`), and failed in CI (`CI` set), where a check that did not run must
    not pass as green."""
    found = find_program(name)
    if found is not None:
        return found
    message = f"{name} is not installed ({install})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
