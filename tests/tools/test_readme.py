"""The README is a front door and the docs/ pages hold together: checks of the Markdown itself.

- ``README.md`` stays short (at most ``README_MAX_LINES``) and its first screen links to
  ``docs/application.md``, where deploying one's own application is explained;
- every relative link of ``README.md`` and ``docs/**/*.md`` resolves to a file or directory of
  the repository, and every ``#anchor`` to a heading of the page it names (GitHub's heading ids);
- every page under ``docs/`` is reachable from the README through links (no orphan page);
- no hand-written page but those under ``docs/measurements/`` holds a dated measurement: a
  paragraph with both an ISO date and a duration (``2026-12-03 ... 881 s``). Timings go to a
  dated page. The generated ``docs/reference/`` pages are left out (``make docs`` checks them;
  they carry the dates of their inputs, such as when a price was read, beside configured
  periods).

Runs in ``make scan`` (``tests/tools``); needs nothing but the files.
"""
from __future__ import annotations

import re
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
README = ROOT / "README.md"
DOCS = ROOT / "docs"
MEASUREMENTS = DOCS / "measurements"
GENERATED = DOCS / "reference"
README_MAX_LINES = 210
# What a newcomer sees before scrolling: the title, the paragraph, the pointer to their app.
FIRST_SCREEN_LINES = 25

_FENCE = re.compile(r"^(```|~~~).*?^\1[^\n]*$", re.MULTILINE | re.DOTALL)
_LINK = re.compile(r"!?\[(?:[^\[\]]|\[[^\]]*\])*\]\(\s*<?([^)\s>]+)>?(?:\s+\"[^\"]*\")?\s*\)")
_HEADING = re.compile(r"^#{1,6}\s+(.+?)\s*#*\s*$", re.MULTILINE)
_EXTERNAL = re.compile(r"^[a-z][a-z0-9+.-]*:", re.IGNORECASE)  # https:, mailto:, ...
_DATE = re.compile(r"\b20\d\d-[01]\d-[0-3]\d\b")
_DURATION = re.compile(r"\b\d+(?:\.\d+)?\s?(?:ms|s|sec|seconds|min|minutes)\b")


def without_code(text: str) -> str:
    """The Markdown without its fenced code blocks (links and headings there are not real)."""
    return _FENCE.sub("", text)


def links(text: str) -> list[str]:
    """Every link and image target of a Markdown text, outside fenced code."""
    return _LINK.findall(without_code(text))


def slug(heading: str) -> str:
    """GitHub's id of a heading: lower case, punctuation but ``-`` and ``_`` dropped, spaces
    to hyphens (``Data tier (`lib/data_tier.py`)`` -> ``data-tier-libdata_tierpy``)."""
    return re.sub(r"[^\w\- ]", "", heading.strip().lower()).replace(" ", "-")


def anchors(text: str) -> set[str]:
    """The ids of a page's headings; a repeated heading gets ``-1``, ``-2``... as on GitHub."""
    seen: Counter[str] = Counter()
    found = set()
    for heading in _HEADING.findall(without_code(text)):
        base = slug(heading)
        found.add(f"{base}-{seen[base]}" if seen[base] else base)
        seen[base] += 1
    return found


def broken_links(page: Path, root: Path = ROOT) -> list[str]:
    """``page: target (why)`` for each relative link of ``page`` that does not resolve to a
    file or directory inside ``root`` (or to a heading, for an anchor)."""
    broken = []
    for target in links(page.read_text(encoding="utf-8")):
        if _EXTERNAL.match(target):
            continue
        path_part, _, anchor = target.partition("#")
        resolved = (page.parent / path_part).resolve() if path_part else page.resolve()
        where = f"{page.relative_to(root)}: {target}"
        if not resolved.is_relative_to(root) or not resolved.exists():
            broken.append(f"{where} (no such file)")
        elif anchor and (resolved.suffix != ".md"
                         or anchor not in anchors(resolved.read_text(encoding="utf-8"))):
            broken.append(f"{where} (no heading #{anchor})")
    return broken


def linked_pages(page: Path) -> set[Path]:
    """The Markdown files a page links to, resolved."""
    found = set()
    for target in links(page.read_text(encoding="utf-8")):
        path_part = target.partition("#")[0]
        if path_part and not _EXTERNAL.match(target):
            resolved = (page.parent / path_part).resolve()
            if resolved.suffix == ".md" and resolved.is_file():
                found.add(resolved)
    return found


def reachable_from(start: Path) -> set[Path]:
    """Every Markdown page reachable from ``start`` by following links."""
    seen, todo = {start.resolve()}, [start.resolve()]
    while todo:
        for page in linked_pages(todo.pop()) - seen:
            seen.add(page)
            todo.append(page)
    return seen


def dated_measurements(text: str) -> list[str]:
    """The paragraphs (link targets left out) that hold both an ISO date and a duration."""
    plain = _LINK.sub(lambda match: match.group(0).split("](", 1)[0], text)
    return [paragraph.strip() for paragraph in re.split(r"\n\s*\n", plain)
            if _DATE.search(paragraph) and _DURATION.search(paragraph)]


def pages() -> list[Path]:
    """README.md and every Markdown page under docs/."""
    return [README, *sorted(DOCS.rglob("*.md"))]


def test_the_readme_is_short() -> None:
    count = len(README.read_text(encoding="utf-8").splitlines())
    assert count <= README_MAX_LINES, f"README.md has {count} lines; at most {README_MAX_LINES}"


def test_the_first_screen_says_where_to_deploy_your_own_application() -> None:
    first = "\n".join(README.read_text(encoding="utf-8").splitlines()[:FIRST_SCREEN_LINES])
    assert "docs/application.md" in links(first)


def test_every_relative_link_resolves() -> None:
    broken = [line for page in pages() for line in broken_links(page)]
    assert broken == []


def test_every_docs_page_is_reachable_from_the_readme() -> None:
    orphans = sorted(str(page.relative_to(ROOT)) for page in DOCS.rglob("*.md")
                     if page.resolve() not in reachable_from(README))
    assert orphans == []


def test_no_dated_measurement_outside_the_measurement_pages() -> None:
    found = [f"{page.relative_to(ROOT)}: {paragraph[:120]}" for page in pages()
             if not page.is_relative_to(MEASUREMENTS) and not page.is_relative_to(GENERATED)
             for paragraph in dated_measurements(page.read_text(encoding="utf-8"))]
    assert found == []


def test_every_measurement_page_is_named_by_its_date() -> None:
    misnamed = sorted(page.name for page in MEASUREMENTS.glob("*.md")
                      if not re.fullmatch(r"20\d\d-[01]\d-[0-3]\d-[a-z0-9-]+\.md", page.name))
    assert misnamed == []


def test_slug_follows_github() -> None:
    assert slug("Data tier (`lib/data_tier.py`)") == "data-tier-libdata_tierpy"
    assert slug("The application's life on the emulator") == "the-applications-life-on-the-emulator"
    assert slug("3. Set the secrets, once per environment") == "3-set-the-secrets-once-per-environment"
    assert anchors("# Runbook\n## Runbook\n```\n# not a heading\n```\n") == {"runbook", "runbook-1"}


def test_links_are_found_outside_code_only() -> None:
    text = ("See [a](docs/a.md#x), ![img](graph.svg \"title\") and [web](https://example.com).\n"
            "```sh\n[not](a-link.md)\n```\n[`code` text](b.md)\n")
    assert links(text) == ["docs/a.md#x", "graph.svg", "https://example.com", "b.md"]


def test_a_broken_link_and_a_missing_anchor_are_reported(tmp_path: Path) -> None:
    (tmp_path / "docs").mkdir()
    (tmp_path / "docs" / "operations.md").write_text("# Runbook\n", "utf-8")
    (tmp_path / "outside.md").write_text("# Outside\n", "utf-8")
    page = tmp_path / "docs" / "page.md"
    page.write_text("[ok](operations.md#runbook) [gone](nowhere.md) [dir](.) "
                    "[anchor](operations.md#no-such-heading) [self](#here) [up](../outside.md)\n"
                    "# Here\n", "utf-8")
    assert broken_links(page, root=tmp_path / "docs") == [
        "page.md: nowhere.md (no such file)",
        "page.md: operations.md#no-such-heading (no heading #no-such-heading)",
        "page.md: ../outside.md (no such file)",
    ]


def test_a_dated_measurement_is_found() -> None:
    text = ("Measured on 2026-12-03: `make test` took\n881 s.\n\n"
            "Prices read 2026-12-05; a month of 730 hours.\n\n"
            "The apply takes about 34 s.\n\n"
            "See [the run](measurements/2026-12-03-fresh-clone-make-test.md), 881 s.\n")
    assert dated_measurements(text) == ["Measured on 2026-12-03: `make test` took\n881 s."]
