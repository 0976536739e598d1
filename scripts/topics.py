"""`python scripts/topics.py`: writes TOPICS.md from docs/topics.toml (`--check` only compares).

The data file is the single source; TOPICS.md is its readable face, and `make diff` uses
the same data to say which topics one stage adds to another.
"""

import sys
import tomllib
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
DATA = ROOT / "docs" / "topics.toml"
INDEX = ROOT / "TOPICS.md"
PLANNED_STAGES = {
    "stage3-payments",
    "stage3-microservices",
    "stage4-ride-sharing",
    "stage4-fintech",
    "stage4-social",
}


@dataclass(frozen=True)
class Topic:
    name: str
    stages: list[str] = field(default_factory=list)
    code: list[str] = field(default_factory=list)
    tests: list[str] = field(default_factory=list)
    not_yet: str | None = None
    note: str | None = None


def load_topics(data: Path = DATA) -> list[Topic]:
    return [Topic(**entry) for entry in tomllib.loads(data.read_text())["topic"]]


def link(reference: str) -> str:
    """`path::Symbol` as a Markdown link to the file, showing the symbol."""
    path, _, symbol = reference.partition("::")
    return f"[`{symbol or Path(path).name}`]({path})"


def cell(references: list[str]) -> str:
    return "<br>".join(link(reference) for reference in references)


def render(topics: list[Topic]) -> str:
    lines = [
        "# Topic index",
        "",
        "Every topic of the backend roadmap, the code that teaches it and the test that proves",
        "it. Generated from `docs/topics.toml` by `python scripts/topics.py`; edit the data,",
        "not this file (`tests/test_topics.py` checks that both agree and that every name",
        "exists). `make diff FROM=<stage> TO=<stage>` starts with the topics a stage adds.",
        "",
        "| Topic | Stages | Where the code teaches it | The tests that prove it |",
        "|---|---|---|---|",
    ]
    for topic in topics:
        if topic.not_yet:
            row = [topic.name, f"not yet: {topic.not_yet}", "", ""]
        else:
            row = [topic.name, ", ".join(topic.stages), cell(topic.code), cell(topic.tests)]
        if topic.note:
            row[2] = f"{row[2]}<br>{topic.note}" if row[2] else topic.note
        lines.append("| " + " | ".join(row) + " |")
    return "\n".join(lines) + "\n"


def main(arguments: list[str]) -> int:
    text = render(load_topics())
    if arguments == ["--check"]:
        if INDEX.read_text() != text:
            print("TOPICS.md is out of date: run python scripts/topics.py", file=sys.stderr)
            return 1
        return 0
    INDEX.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
