"""`make diff FROM=<stage> TO=<stage>`: what one stage adds to another, file role by role.

Two stages are different applications, so a plain diff is thousands of lines of whole
files added and deleted. Instead, each file gets a role (main, config, dependencies,
models, a domain's router/service/repository, a test module, ...) and files are compared
with the file of the same role in the other stage. The output starts with a summary a
learner reads in a minute: the topics the later stage adds (from docs/topics.toml) and
every role with its lines added and removed; then the diff of each role both stages have.
Import packages are shown as `<pkg>` so renames do not count as changes. `--full` (FULL=1)
prints the complete diff of every file instead, as `git diff --no-index` would.
"""

import argparse
import difflib
import re
import sys
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from scripts.topics import load_topics

ROOT = Path(__file__).resolve().parent.parent
PLACEHOLDER = "<pkg>"  # the import package and the stage folder, in both stages
LEFT_OUT_DIRS = {
    ".venv",
    "__pycache__",
    ".pytest_cache",
    ".mypy_cache",
    ".ruff_cache",
    "data",
    "uploads",
    "versions",
    "exercises",  # graded exercises and their solutions: the learner's work, not the stage's
}
LEFT_OUT_FILES = {"uv.lock", "env.py", "script.py.mako"}
# Roles whose files are prose or configuration: counted in the summary, not diffed.
SUMMARY_ONLY = {"README.md"}
# Two files of one role sharing less than this are different code: diffing them teaches
# nothing, so the summary says so and the learner reads both.
REWRITTEN_BELOW = 0.2
LAYERS = {"router", "schemas", "service", "repository", "cache", "admin_router"}


def import_packages(stage: Path) -> list[str]:
    """The stage's import packages: one, or one per service of a stage split into services."""
    return [init.parent.name for init in sorted((stage / "src").glob("*/__init__.py"))]


def role_of(relative: Path) -> str:
    """The role of a file, named so that the same role in two stages gets the same name."""
    parts = relative.parts
    if parts[:2] == ("src", PLACEHOLDER):
        inner = parts[2:]
        if inner[0] in {"models", "models.py"}:
            return "models"
        if inner[0] == "migrations":
            return "migrations"
        if len(inner) == 1:
            return Path(inner[0]).stem
        domain, name = inner[0], Path(inner[-1]).stem
        return f"{domain} {name}" if name in LAYERS or len(inner) == 2 else "/".join(inner)
    if parts[0] == "tests":
        return "tests " + Path(parts[-1]).stem.removeprefix("test_")
    return relative.as_posix()


@dataclass
class StageFiles:
    name: str
    by_role: dict[str, dict[str, str]]  # role -> {relative path: normalised text}
    packages: list[str]


def stage_files(stage: Path) -> StageFiles:
    """Every file by role. Each service of a split stage is shown as the placeholder too, so
    that its files take the roles of the monolith's (`catalog` and `orders` models are both
    `models`, beside each other); their paths keep the service's name, to tell them apart."""
    packages = import_packages(stage)
    split = len(packages) > 1
    # The package and the folder's name: a rename is not a change worth reading.
    names = "|".join(re.escape(name) for name in [*packages, stage.name])
    pattern = re.compile(rf"\b(?:{names})\b")
    by_role: dict[str, dict[str, str]] = {}
    for source in sorted(stage.rglob("*")):
        relative = source.relative_to(stage)
        if set(relative.parts) & LEFT_OUT_DIRS or not source.is_file():
            continue
        if source.name in LEFT_OUT_FILES or source.suffix in {".pyc", ".db"}:
            continue
        parts = list(relative.parts)
        if parts[0] == "src" and len(parts) > 1 and parts[1] in packages:
            parts[1] = PLACEHOLDER  # src/<pkg>/..., not a domain that shares its name
        shown = Path(*parts)
        try:
            text = pattern.sub(PLACEHOLDER, source.read_text())
        except UnicodeDecodeError:  # binary files are left out: they teach nothing in a diff
            continue
        label = relative if split else shown
        by_role.setdefault(role_of(shown), {})[label.as_posix()] = text
    return StageFiles(stage.name, by_role, packages)


def joined(files: dict[str, str]) -> list[str]:
    """One role's files as one text; a role of several files (models/) names each."""
    if len(files) == 1:
        return next(iter(files.values())).splitlines(keepends=True)
    lines: list[str] = []
    for path, text in sorted(files.items()):
        lines += [f"# ---- {path}\n", *text.splitlines(keepends=True)]
    return lines


def role_diff(role: str, before: StageFiles, after: StageFiles) -> list[str]:
    old = before.by_role.get(role, {})
    new = after.by_role.get(role, {})
    label_old = f"{before.name}/{', '.join(sorted(old)) or '(none)'}"
    label_new = f"{after.name}/{', '.join(sorted(new)) or '(none)'}"
    return list(difflib.unified_diff(joined(old), joined(new), label_old, label_new, n=3))


def counts(diff: Iterable[str]) -> tuple[int, int]:
    added = removed = 0
    for line in diff:
        if line.startswith("+") and not line.startswith("+++"):
            added += 1
        elif line.startswith("-") and not line.startswith("---"):
            removed += 1
    return added, removed


def topics_added(before: str, after: str) -> tuple[list[str], list[str]]:
    topics = load_topics()
    added = [t.name for t in topics if after in t.stages and before not in t.stages]
    dropped = [t.name for t in topics if before in t.stages and after not in t.stages]
    return added, dropped


def alike(old: list[str], new: list[str]) -> float:
    """The share of lines two texts have in common (0 to 1)."""
    return difflib.SequenceMatcher(None, old, new, autojunk=False).ratio()


def describe(files: dict[str, str]) -> str:
    if len(files) == 1:
        return next(iter(files))
    return f"{Path(min(files)).parent.as_posix()}/ ({len(files)} files)"


def grouped(roles: list[str]) -> dict[str, list[str]]:
    """One-sided roles by domain: `articles router` and `articles service` under `articles`."""
    groups: dict[str, list[str]] = {}
    for role in roles:
        domain, _, rest = role.partition(" ")
        key, name = (domain, rest) if rest else ("(top level)", role)
        groups.setdefault(key, []).append(name)
    return groups


@dataclass
class Comparison:
    before: StageFiles
    after: StageFiles
    diffs: dict[str, list[str]]  # every role, including the ones only one stage has
    similarity: dict[str, float]  # roles both stages have

    def shown(self, role: str) -> bool:
        """Diffed by default: in both stages, not prose, and not rewritten from scratch."""
        return (
            role in self.similarity
            and role not in SUMMARY_ONLY
            and (self.similarity[role] >= REWRITTEN_BELOW)
        )


def one_sided(comparison: Comparison, stage: StageFiles, title: str) -> list[str]:
    roles = [role for role in comparison.diffs if role in stage.by_role]
    roles = [role for role in roles if role not in comparison.similarity]
    if not roles:
        return []
    lines = ["", title]
    for domain, names in grouped(roles).items():
        lines_changed = sum(
            sum(counts(comparison.diffs[f"{domain} {name}" if domain != "(top level)" else name]))
            for name in names
        )
        lines.append(f"  {domain:<20}{lines_changed:>6} lines  {', '.join(names)}")
    return lines


def summary(comparison: Comparison) -> list[str]:
    before, after = comparison.before, comparison.after
    added, dropped = topics_added(before.name, after.name)
    lines = [f"{before.name} -> {after.name} (import packages shown as {PLACEHOLDER})", ""]
    for stage in (before, after):
        if len(stage.packages) > 1:
            lines += [
                f"{stage.name} is split into services ({', '.join(stage.packages)}): each is "
                f"shown as {PLACEHOLDER}, and a role gathers the files of every service.",
                "",
            ]
    lines.append("Topics added: " + (", ".join(added) or "none"))
    if dropped:
        lines.append(f"Topics {after.name} does not teach: " + ", ".join(dropped))
    lines += ["", "In both stages (files before -> after, lines added and removed, how alike):"]
    for role, share in comparison.similarity.items():
        plus, minus = counts(comparison.diffs[role])
        old, new = describe(before.by_role[role]), describe(after.by_role[role])
        files = old if old == new else f"{old} -> {new}"
        note = "" if comparison.shown(role) else "  (not shown: rewritten or prose)"
        lines.append(f"  {role:<27}{short(files):<46}+{plus:<5}-{minus:<5}{share:>4.0%}{note}")
    lines += one_sided(comparison, after, f"New in {after.name} (read them in the stage):")
    lines += one_sided(comparison, before, f"Not in {after.name}:")
    lines += ["", "Below: the diff of each role marked alike above. FULL=1 prints every file."]
    return lines


def short(text: str, width: int = 45) -> str:
    return text if len(text) <= width else "..." + text[3 - width :]


def compare(before: Path, after: Path, full: bool) -> list[str]:
    old, new = stage_files(before), stage_files(after)
    roles = sorted(set(old.by_role) | set(new.by_role))
    diffs = {role: role_diff(role, old, new) for role in roles}
    similarity = {
        role: alike(joined(old.by_role[role]), joined(new.by_role[role]))
        for role in roles
        if role in old.by_role and role in new.by_role and diffs[role]
    }
    comparison = Comparison(old, new, {r: d for r, d in diffs.items() if d}, similarity)
    output = summary(comparison)
    for role, diff in comparison.diffs.items():
        if full or comparison.shown(role):
            output += ["", f"==== {role}", *(line.rstrip("\n") for line in diff)]
    return output


def main(arguments: list[str]) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("before", help="the earlier stage, e.g. stage2-auth")
    parser.add_argument("after", help="the later stage, e.g. stage3-blog")
    parser.add_argument("--full", action="store_true", help="every file in full")
    options = parser.parse_args(arguments)
    stages = [ROOT / options.before, ROOT / options.after]
    for stage in stages:
        if not (stage / "src").is_dir():
            print(f"{stage.name} is not a stage folder", file=sys.stderr)
            return 2
    print("\n".join(compare(stages[0], stages[1], full=options.full)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
