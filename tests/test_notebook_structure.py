"""The house skeleton of every notebook (CONTRIBUTING.md), checked on the stored .ipynb files:
navigation at top and bottom with links that resolve, the numbered title, Summary and
Exercises, a clean run-all (execution counts 1..N), no stored errors or stderr."""

import json
import re
from pathlib import Path

import pytest

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("[0-9][0-9]-*.ipynb"))
LINK = re.compile(r"\]\(([^)#\s]+\.ipynb)\)")


def cells(path):
    return json.loads(path.read_text(encoding="utf-8"))["cells"]


def source(cell):
    return "".join(cell["source"])


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: p.stem)
def test_navigation_links_resolve_at_top_and_bottom(path):
    cs = cells(path)
    first, last = source(cs[0]), source(cs[-1])
    for where, text in (("first", first), ("last", last)):
        links = LINK.findall(text)
        assert links, f"{path.name}: the {where} cell has no navigation links"
        for target in links:
            assert (path.parent / target).exists(), f"{path.name}: {where} cell links to missing {target}"
    if not path.stem.startswith("00"):
        assert "00-contents.ipynb" in first and "00-contents.ipynb" in last, f"{path.name}: no link to Contents"


@pytest.mark.parametrize("path", [p for p in NOTEBOOKS if not p.stem.startswith("00")], ids=lambda p: p.stem)
def test_title_summary_exercises_and_a_clean_run(path):
    cs = cells(path)
    markdown = "\n".join(source(c) for c in cs if c["cell_type"] == "markdown")
    number = path.stem[:2]
    assert re.search(rf"^# {number} · \S", markdown, re.M), f"{path.name}: no '# {number} · Title' heading"
    assert re.search(r"^## Summary", markdown, re.M), f"{path.name}: no '## Summary'"
    assert re.search(r"^## Exercises", markdown, re.M), f"{path.name}: no '## Exercises'"
    code = [c for c in cs if c["cell_type"] == "code"]
    assert [c["execution_count"] for c in code] == list(range(1, len(code) + 1)), \
        f"{path.name}: outputs are not from one clean run-all (make run-notebooks)"
    for c in code:
        for out in c.get("outputs", []):
            assert out["output_type"] != "error", f"{path.name}: a stored error output"
            assert out.get("name") != "stderr", f"{path.name}: stored stderr: {''.join(out.get('text', ''))[:80]!r}"
