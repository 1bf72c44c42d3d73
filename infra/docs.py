"""Regenerate the documentation that is generated from code (``make docs``).

- ``docs/settings.md``'s settings table, from :class:`infra.settings.Settings`;
- ``Pulumi.yaml``'s ``config:`` block, from the same model;
- ``README.md``'s rule table, from the rule catalogue (``learning_images.rules``).

Each block is replaced in place between its first row and the next blank line; tests fail
whenever a block and its source differ.
"""

from __future__ import annotations

from pathlib import Path

import yaml

from infra.settings import pulumi_project_config, settings_table
from learning_images import rules

ROOT = Path(__file__).resolve().parent.parent


def _replace_table(path: Path, first_row: str, table: str) -> None:
    text = path.read_text(encoding="utf-8")
    start = text.index(first_row)
    end = text.find("\n\n", start)
    path.write_text(text[:start] + table + (text[end:] if end >= 0 else "\n"), encoding="utf-8")


def regenerate(root: Path = ROOT) -> None:
    _replace_table(root / "docs" / "settings.md", "| Setting | Type | Default | Behaviour |", settings_table())
    _replace_table(root / "README.md", "| contract rule |", rules.markdown_table())
    manifest = root / "Pulumi.yaml"
    text = manifest.read_text(encoding="utf-8")
    head = text[: text.index("config:\n")]
    block = yaml.safe_dump({"config": pulumi_project_config()}, sort_keys=False, width=100)
    manifest.write_text(head + block, encoding="utf-8")


if __name__ == "__main__":
    regenerate()
    print("regenerated docs/settings.md, README.md's rule table and Pulumi.yaml's config block")
