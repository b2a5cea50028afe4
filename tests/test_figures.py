"""figures/ and the README gallery stay in step with the FIGURES dicts of the plotting modules.

Reads files only; it does not regenerate figures (`make figures` does, in about a minute).
"""

from pathlib import Path

from rnnlib.figures import all_figures

REPO = Path(__file__).resolve().parents[1]


def test_every_listed_figure_is_committed_small_and_shown_in_the_readme():
    listed = set(all_figures())
    on_disk = {p.name for p in (REPO / "figures").glob("*.svg")}
    assert listed == on_disk, f"run `make figures`: listed only {listed - on_disk}, on disk only {on_disk - listed}"
    readme = (REPO / "README.md").read_text(encoding="utf-8")
    for name in sorted(listed):
        size = (REPO / "figures" / name).stat().st_size
        assert size < 1_000_000, f"figures/{name} is {size / 1e6:.1f} MB: rasterize dense artists (rasterized=True)"
        assert f"figures/{name}" in readme, f"README.md does not show figures/{name}"
