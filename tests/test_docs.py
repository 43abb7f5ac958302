"""The README is a front page whose links lead somewhere: every relative link in it and in
docs/ names a file that exists, and every #anchor a heading of that file."""

import re

import pytest

from tests.conftest import REPO_ROOT

PAGES = [REPO_ROOT / "README.md", *sorted((REPO_ROOT / "docs").glob("*.md"))]
LINK = re.compile(r"\]\(([^)\s]+)\)")


def anchors(path) -> set[str]:
    """GitHub's anchors for the headings of a markdown file."""
    found = set()
    for line in path.read_text().splitlines():
        if line.startswith("#"):
            title = line.lstrip("#").strip().lower()
            found.add(re.sub(r"[^\w\- ]", "", title).replace(" ", "-"))
    return found


@pytest.mark.parametrize("page", PAGES, ids=lambda p: p.name)
def test_relative_links_resolve(page):
    for target in LINK.findall(page.read_text()):
        if target.startswith(("http://", "https://", "data:")):
            continue
        file, _, anchor = target.partition("#")
        path = (page.parent / file).resolve() if file else page
        assert path.exists(), f"{page.name}: link to missing {target}"
        if anchor:
            assert anchor in anchors(path), f"{page.name}: no heading for {target}"


def test_readme_stays_a_front_page():
    assert len((REPO_ROOT / "README.md").read_text()) < 25_000
