"""Programs a test runs that are not Python packages (promtool, nginx, node...)."""

import os
import shutil

import pytest


def required_program(name: str, install: str) -> str:
    """The path of `name`, or the test stops: skipped on a developer's machine, saying how
    to get it (`install`), and failed in CI (`CI` set), where a check that did not run must
    not pass as green."""
    found = shutil.which(name)
    if found is not None:
        return found
    message = f"{name} is not installed ({install})"
    if os.environ.get("CI"):
        pytest.fail(message)
    pytest.skip(message)
