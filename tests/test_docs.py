"""The documentation is generated where it holds figures, and its links resolve.

Every benchmark page (``docs/benchmarks/*.md``) and the README's headline section hold generated
sections between ``<!-- name:begin -->`` and ``<!-- name:end -->``; each is written by exactly one
script under ``benchmarks/`` from a committed result, and the script's ``--check`` (its page equals
what it renders from ``benchmarks/results/``) must pass. No table on a benchmark page is outside a
generated section, and every relative link of the README and of the pages under docs/ resolves.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import io
import re
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
BENCHMARK_PAGES = sorted((ROOT / "docs" / "benchmarks").glob("*.md"))
MARKER = re.compile(r"<!-- ([a-z0-9-]+):begin -->")
CHECK_ARGS = ["--check"]


def _sections(path: Path) -> list[str]:
    return MARKER.findall(path.read_text())


def _script_for(name: str) -> Path:
    """The one script under benchmarks/ that writes section ``name`` (its begin marker is in its source)."""
    marker = f"<!-- {name}:begin -->"
    found = [p for p in sorted((ROOT / "benchmarks").glob("*.py")) if marker in p.read_text()]
    assert len(found) == 1, f"section {name}: {len(found)} scripts under benchmarks/ write it: {found}"
    return found[0]


@functools.lru_cache(maxsize=None)
def _check(script: Path) -> tuple[int, str]:
    """Run ``script``'s ``main(["--check"])`` in this process; (exit code, what it printed)."""
    sys.path.insert(0, str(ROOT / "benchmarks"))
    try:
        spec = importlib.util.spec_from_file_location(f"docs_check_{script.stem}", script)
        module = importlib.util.module_from_spec(spec)
        spec.loader.exec_module(module)
        out = io.StringIO()
        with contextlib.redirect_stdout(out):
            code = module.main(CHECK_ARGS)
        return code, out.getvalue()
    finally:
        sys.path.remove(str(ROOT / "benchmarks"))


def _all_sections() -> list[tuple[str, str]]:
    pages = [*BENCHMARK_PAGES, ROOT / "README.md"]
    return [(str(p.relative_to(ROOT)), name) for p in pages for name in _sections(p)]


def test_every_benchmark_page_has_generated_sections():
    assert len(BENCHMARK_PAGES) >= 6
    for page in BENCHMARK_PAGES:
        names = _sections(page)
        assert names, f"{page.name} has no generated section"
        text = page.read_text()
        for name in names:
            assert text.count(f"<!-- {name}:begin -->") == 1 and text.count(f"<!-- {name}:end -->") == 1, name


def test_no_section_is_on_two_pages():
    names = [name for _, name in _all_sections()]
    assert len(names) == len(set(names)), sorted(n for n in names if names.count(n) > 1)


@pytest.mark.parametrize("page,name", _all_sections())
def test_each_generated_section_equals_what_its_script_renders_from_the_committed_results(page, name):
    script = _script_for(name)
    code, printed = _check(script)
    assert code == 0, f"{page}: {script.name} --check: {printed.strip()}"


def test_the_check_fails_when_a_page_is_edited_by_hand(tmp_path, monkeypatch):
    import benchmarks._proc as proc

    page = tmp_path / "docs" / "benchmarks" / "x.md"
    page.parent.mkdir(parents=True)
    page.write_text("intro\n<!-- x:begin -->\n| a | 1 |\n<!-- x:end -->\nafter\n")
    (tmp_path / "README.md").write_text("no sections\n")
    monkeypatch.setattr(proc, "ROOT", tmp_path)
    assert proc.rewrite_docs_section("<!-- x:begin -->", "<!-- x:end -->", "| a | 1 |", True, "x", "cmd") == 0
    assert proc.rewrite_docs_section("<!-- x:begin -->", "<!-- x:end -->", "| a | 2 |", True, "x", "cmd") == 1
    assert page.read_text().count("| a | 1 |") == 1  # a check writes nothing
    assert proc.rewrite_docs_section("<!-- x:begin -->", "<!-- x:end -->", "| a | 2 |", False, "x", "cmd") == 0
    assert page.read_text() == "intro\n<!-- x:begin -->\n| a | 2 |\n<!-- x:end -->\nafter\n"
    assert proc.rewrite_docs_section("<!-- y:begin -->", "<!-- y:end -->", "", True, "y", "cmd") == 1


def test_no_table_on_a_benchmark_page_is_outside_a_generated_section():
    for page in BENCHMARK_PAGES:
        outside = re.sub(r"<!-- ([a-z0-9-]+):begin -->.*?<!-- \1:end -->", "", page.read_text(), flags=re.S)
        tables = [line for line in outside.splitlines() if line.startswith("|")]
        assert not tables, f"{page.name}: hand-written table rows {tables[:2]}"


def _links(path: Path) -> list[str]:
    text = re.sub(r"^```.*?^```", "", path.read_text(), flags=re.S | re.M)
    return [m.group(1) for m in re.finditer(r"\]\(([^)\s]+)\)", text)]


def test_every_relative_link_of_the_readme_and_the_docs_resolves():
    pages = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]
    to_docs = [link for link in _links(ROOT / "README.md") if link.startswith("docs/")]
    assert len(to_docs) >= 10, "the README links its docs pages"
    broken = []
    for page in pages:
        for link in _links(page):
            if re.match(r"[a-z]+:", link) or link.startswith("#"):
                continue
            target = (page.parent / link.split("#")[0]).resolve()
            if not target.exists():
                broken.append(f"{page.relative_to(ROOT)}: {link}")
    assert not broken, broken


def test_every_benchmark_page_is_linked_from_the_readme():
    linked = {link for link in _links(ROOT / "README.md")}
    for page in BENCHMARK_PAGES:
        assert f"docs/benchmarks/{page.name}" in linked, page.name


def test_the_readme_is_short():
    assert len((ROOT / "README.md").read_text().splitlines()) <= 300
