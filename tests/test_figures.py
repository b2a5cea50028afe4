"""figures/ is current: every figure regenerated into a temporary folder matches the committed file,
and figures/ and the README gallery stay in step with the FIGURES dicts of the plotting modules.

Regenerating takes about a minute of CPU (the training runs behind the 06 and 07 figures). SVGs
are compared as text with their numbers parsed: the text between numbers must be identical, the
numbers equal to 1e-3 (a thousandth of a point; rounding differences between BLAS builds stay far
below it, a changed figure does not).
"""

import re
from pathlib import Path

import numpy as np
import pytest

from rnnlib.plots import figures
from rnnlib.plots.figures import all_figures

REPO = Path(__file__).resolve().parents[1]
NUMBER = re.compile(r"-?\d+(?:\.\d+)?(?:e[-+]?\d+)?")


def test_every_listed_figure_is_committed_small_and_shown_in_the_readme():
    listed = set(all_figures())
    on_disk = {p.name for p in (REPO / "figures").glob("*.svg")}
    assert listed == on_disk, f"run `make figures`: listed only {listed - on_disk}, on disk only {on_disk - listed}"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in sorted(listed):
        size = (REPO / "figures" / name).stat().st_size
        assert size < 1_000_000, f"figures/{name} is {size / 1e6:.1f} MB: rasterize dense artists (rasterized=True)"
        assert f"figures/{name}" in readme, f"README.md does not show figures/{name}"


def svg_difference(a: str, b: str) -> str | None:
    """None if the two SVG texts agree (same text between numbers, numbers within 1e-3); else why not."""
    text_a, text_b = NUMBER.split(a), NUMBER.split(b)
    if text_a != text_b:
        i = next((i for i, (x, y) in enumerate(zip(text_a, text_b)) if x != y), min(len(text_a), len(text_b)))
        where = text_a[i][:80] if i < len(text_a) else "the end"
        return f"different structure near {where!r}"
    # Numbers spelled alike are equal (also inside base64 image data, where "9e999" reads as inf);
    # the others must agree to 1e-3.
    pairs = [(x, y) for x, y in zip(NUMBER.findall(a), NUMBER.findall(b)) if x != y]
    num_a, num_b = np.array([float(x) for x, _ in pairs]), np.array([float(y) for _, y in pairs])
    with np.errstate(invalid="ignore"):
        bad = ~(np.abs(num_a - num_b) <= 1e-3)  # nan (inf against a number) counts as different
    if bad.any():
        i = int(np.flatnonzero(bad)[0])
        return f"{int(bad.sum())} numbers differ, e.g. {pairs[i][0]} against {pairs[i][1]}"
    return None


def test_svg_difference_sees_changes():
    """The comparison above can fail: a moved point or a new element is reported, rounding is not."""
    svg = '<path d="M 10.000000 20.500000 L 30.25 40"/>'
    assert svg_difference(svg, svg.replace("20.500000", "20.5000004")) is None
    assert "numbers differ" in svg_difference(svg, svg.replace("20.500000", "20.6"))
    assert "structure" in svg_difference(svg, svg + '<g id="ytick_9"/>')
    assert "numbers differ" in svg_difference(svg + "9e999", svg + "9e998")  # inf against a number


@pytest.fixture(scope="module")
def regenerated(tmp_path_factory):
    outdir = tmp_path_factory.mktemp("figures")
    figures.main(outdir)
    return outdir


@pytest.mark.parametrize("name", sorted(all_figures()))
def test_committed_figure_is_current(regenerated, name):
    new = (regenerated / name).read_text(encoding="utf-8")
    old = (REPO / "figures" / name).read_text(encoding="utf-8")
    why = svg_difference(old, new)
    assert why is None, f"figures/{name} is out of date ({why}): run `make figures` and commit"
