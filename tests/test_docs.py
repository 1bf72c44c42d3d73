"""The README and docs/ work for someone reading them on a forge: every relative link resolves
inside the repository, and the README stays the short entry point it is meant to be."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from learning_images.sandbox.render import ROOT

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(page: Path) -> set[str]:
    """GitHub's heading anchors: lower case, punctuation dropped, spaces to hyphens."""
    found = set()
    for line in page.read_text(encoding="utf-8").splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: str(p.relative_to(ROOT)))
def test_every_relative_link_resolves_inside_the_repository(page: Path) -> None:
    broken = []
    for target in LINK.findall(page.read_text(encoding="utf-8")):
        if re.match(r"^[a-z]+://|^mailto:", target):
            continue
        path, _, anchor = target.partition("#")
        resolved = (page.parent / path).resolve() if path else page
        if not resolved.is_relative_to(ROOT) or not resolved.exists():
            broken.append(f"{target} (no such file in the repository)")
        elif anchor and resolved.suffix == ".md" and anchor not in anchors(resolved):
            broken.append(f"{target} (no such heading)")
    assert not broken, f"{page.relative_to(ROOT)}: broken links {broken}"


def test_the_readme_is_the_short_entry_point() -> None:
    """It was 30.5 KB, most of it the generated rule matrix (now docs/rules.md)."""
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    lines = text.count("\n")
    assert lines <= 200, f"README.md has {lines} lines: move detail to docs/ (the goal is about 150)"
    assert len(text.encode()) <= 12_000, f"README.md is {len(text.encode())} bytes: move detail to docs/"


#: ``pip install 'learning-images...`` with no source: the name on a package index is not this
#: project's (anyone could register it), so every install names a tagged release or a checkout.
BARE_INSTALL = re.compile(r"pip install '?learning-images(?:\[[^\]]*\])?+(?! @)")


def test_no_page_or_message_installs_the_project_by_a_bare_package_name() -> None:
    sources = [*PAGES, *sorted((ROOT / "scripts").rglob("*.py")), *sorted((ROOT / "examples").rglob("*.md"))]
    found = [f"{p.relative_to(ROOT)}: {m.group(0)}" for p in sources for m in BARE_INSTALL.finditer(p.read_text())]
    assert not found, f"install from a tagged release or a checkout, never by a bare name: {found}"


def test_slow_make_steps_say_what_they_do_before_they_start() -> None:
    """~60 s of a quiet pip install on a first `make sandbox`, ~80 s of mypy with no output."""
    lines = (ROOT / "Makefile").read_text(encoding="utf-8").splitlines()
    for step in (
        "-m pip install --quiet --disable-pip-version-check --require-hashes",
        "-m mypy",
        "npm ci",
        "-m pytest",
    ):
        at = next(i for i, line in enumerate(lines) if step in line)
        before = lines[max(0, at - 2) : at]
        assert any(line.strip().startswith("@echo") for line in before), f"Makefile: `{step}` runs without a word"


def test_the_changelogs_newest_release_is_the_packages_version() -> None:
    """`pulumi package add <repo>@<tag>` and the docs' installs point at a tag of this version."""
    import tomllib  # noqa: PLC0415

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    newest = re.search(r"^## (\S+)", (ROOT / "CHANGELOG.md").read_text(), re.M)
    assert newest and newest[1] == version, f"CHANGELOG.md's newest entry {newest and newest[1]} is not {version}"


def test_the_policy_packs_version_is_the_packages_version() -> None:
    """The pack is released with the project (CHANGELOG.md's "Policy pack" entries): a pack whose
    policies changed must not be published under the last release's version."""
    import tomllib  # noqa: PLC0415

    import yaml  # noqa: PLC0415

    version = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
    pack = yaml.safe_load((ROOT / "policies" / "PulumiPolicy.yaml").read_text())["version"]
    assert pack == version, f"policies/PulumiPolicy.yaml: version {pack}, the project's is {version}"
    said = re.search(r"policy pack, version (\S+) ", (ROOT / "policies" / "README.md").read_text())
    assert said and said[1] == pack, f"policies/README.md names version {said and said[1]}, the pack's is {pack}"


def test_the_contract_ships_in_the_repository() -> None:
    assert "Command Centre Storage Contract" in (ROOT / "docs" / "contract.md").read_text(encoding="utf-8")


def test_the_layout_in_development_md_names_every_module() -> None:
    """A module added without a word in docs/development.md's layout is a layout gone stale."""
    text = (ROOT / "docs" / "development.md").read_text(encoding="utf-8")
    layout = text[text.index("# Layout") :]
    modules = [
        path
        for base in ("infra", "scripts/learning_images", "bench")
        for path in sorted((ROOT / base).rglob("*.py"))
        if path.name not in ("__init__.py", "__main__.py") and "node_modules" not in path.parts
    ]
    unnamed = [str(p.relative_to(ROOT)) for p in modules if p.name not in layout]
    assert not unnamed, f"docs/development.md's layout does not name {unnamed}"
