"""docs/architecture.md's tree matches the code: every package is in it, every path it names exists."""

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DOC = (ROOT / "docs" / "architecture.md").read_text("utf-8")
TREE = DOC[DOC.index("```\nc360_desktop/"):DOC.index("```", DOC.index("```\nc360_desktop/") + 3)]


def test_every_package_is_in_the_tree():
    packages = sorted(p.parent.relative_to(ROOT / "c360_desktop") for p in (ROOT / "c360_desktop").rglob("__init__.py")
                      if "migrations" not in p.parts and p.parent != ROOT / "c360_desktop")
    missing = [str(p) for p in packages if not re.search(rf"\b{p.name}\b", TREE)]
    assert missing == []


def test_every_path_the_architecture_page_names_exists():
    named = set(re.findall(r"`((?:core|ui|cli)/[a-z_/]+\.py)`", DOC))
    assert named and [p for p in sorted(named) if not (ROOT / "c360_desktop" / p).exists()] == []
