"""Figures for notebook 07 (a character-level RNN): the loss curves and hidden units over text.

Every function returns a matplotlib Figure and does not call plt.show(). The training run behind
the figure in figures/ is `rnnlib.examples.char_rnn_experiment` (numpy only); `char_rnn_experiment`
is also importable from here.
"""

from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.cm import ScalarMappable
from matplotlib.colors import Normalize
from matplotlib.patches import Rectangle

from ..examples import char_rnn_experiment  # re-exported
from ..ngram import ngram_loss
from .diagrams import text_color_on

__all__ = ["char_loss_figure", "text_activation_figure", "char_rnn_experiment", "FIGURES"]


def char_loss_figure(history: dict, baseline: float, *, bigram: float | None = None, window: int = 20,
                     title: str | None = None, ngrams: dict | None = None):
    """Per-character training loss of the char-RNN (raw and moving average), the held-out loss
    (history["eval_step"], history["eval"] when present), the uniform baseline ln V and, if
    given, the bigram baseline and further n-gram baselines: ngrams maps n to the held-out
    loss of the n-gram model (`ngram.ngram_loss`), one dotted line each. title: state the finding."""
    loss = np.asarray(history["loss"])
    fig, ax = plt.subplots(figsize=(7.5, 4.2), constrained_layout=True)
    ax.plot(np.arange(1, loss.size + 1), loss, color="0.75", lw=0.8, label="training chunk, per update")
    if loss.size >= window:
        ax.plot(np.arange(window, loss.size + 1), np.convolve(loss, np.ones(window) / window, mode="valid"),
                color="C0", label=f"training, moving average ({window})")
    if "eval" in history:
        ax.plot(history["eval_step"], history["eval"], "o-", color="C1", ms=4, label="held-out text (last 10%)")
    ax.axhline(baseline, color="C3", ls="--", label=r"uniform guess $\ln V$")
    if bigram is not None:
        ax.axhline(bigram, color="C4", ls=":", lw=1.5, label="bigram counts, held-out")
    for i, (n, loss_n) in enumerate(sorted((ngrams or {}).items())):
        ax.axhline(loss_n, color=f"C{5 + i}", ls=":", lw=1.5, label=f"{n}-gram counts, held-out ({loss_n:.2f})")
    if title is None and "eval" in history:
        final = history["eval"][-1]
        beaten_by = [n for n, v in sorted((ngrams or {}).items()) if v < final]  # n-grams that beat the RNN
        title = f"held-out loss {final:.2f} nats per character" + (
            f", below the bigram's {bigram:.2f}" if bigram is not None and final < bigram else "") + (
            f";\nthe {beaten_by[0]}-gram counts do better ({ngrams[beaten_by[0]]:.2f})" if beaten_by else "")
    ax.set(xlabel="update (one chunk of every stream)", ylabel="loss per character (nats)",
           title=title or "training loss")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=8, loc="upper right", bbox_to_anchor=(1, 0.9))  # below the ln V line at the top
    return fig


def text_activation_figure(text: str, activations, titles, *, width: int = 64, cmap: str = "RdBu_r",
                           cbar_label: str = "unit's $h_t$"):
    """Characters of `text` on coloured backgrounds: red where a unit's h is near +1, blue near -1.

    activations (n_units, len(text)) values in [-1, 1], one row per unit; titles (n_units,).
    Each character is drawn dark or white, whichever contrasts more with its background
    (`diagrams.text_color_on`, the WCAG contrast ratio). One colour bar (label cbar_label) maps
    colour to value.
    """
    acts = np.atleast_2d(activations)
    n_rows = -(-len(text) // width)
    fig, axs = plt.subplots(len(acts), 1, figsize=(width * 0.16, 0.32 * n_rows * len(acts) + 0.5 * len(acts)),
                            constrained_layout=True, squeeze=False)
    norm, colormap = Normalize(-1, 1), plt.get_cmap(cmap)
    for ax, a, title in zip(axs[:, 0], acts, titles):
        for i, ch in enumerate(text):
            r, c = divmod(i, width)
            rgba = colormap(norm(a[i]))
            ax.add_patch(Rectangle((c, -r - 1), 1, 1, color=rgba))
            ax.text(c + 0.5, -r - 0.5, "⏎" if ch == "\n" else ch, ha="center", va="center",
                    family="monospace", fontsize=8, color=text_color_on(rgba))
        ax.set(xlim=(0, width), ylim=(-n_rows, 0), title=title)
        ax.axis("off")
    fig.colorbar(ScalarMappable(norm, colormap), ax=axs[:, 0], label=cbar_label, shrink=0.8, pad=0.01)
    return fig


def _char_loss():
    _, history, vocab, train_ids, heldout_ids = char_rnn_experiment()
    V = len(vocab)
    counts = {n: ngram_loss(train_ids, heldout_ids, V, n) for n in range(2, 6)}  # as in notebook 07
    return char_loss_figure(history, baseline=float(np.log(V)), bigram=counts.pop(2), ngrams=counts)


FIGURES = {
    "07-char-rnn-loss.svg": _char_loss,
}
