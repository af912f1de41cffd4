"""One picture of many networks' stages: the receptive field of each stage, network by network.

Draws a table of :func:`rfmaps.models.zoo.zoo_table` (any sequence of stages with ``network``, ``stage``,
``row`` (``rf_size``, ``jump``, ``whole_image``), ``whole`` and ``neurons``, and ``refused``), so this
module needs nothing from :mod:`rfmaps.models`.
"""

from __future__ import annotations

from typing import Any, Dict, List

from .figures import DARK, HIGHLIGHT, TEXT_PT, Picture, make_figure

__all__ = ["stage_fields", "JUMP_MARKERS"]

#: One marker shape per jump (the stage's stride so far), so stages differ in shape, not in colour alone.
JUMP_MARKERS: Dict[int, str] = {1: "P", 2: "o", 4: "s", 8: "^", 16: "D", 32: "v", 64: "X"}


def _marker(jump: Any) -> str:
    return JUMP_MARKERS.get(int(jump), "h") if float(jump).is_integer() else "h"


def stage_fields(table, width: float = 9.5) -> Picture:
    """Each network on one line: a mark per stage at its receptive field (log scale), the image side as a line.

    Marks are shaped by the stage's jump and filled where at least one neuron sees every pixel; a star marks
    the stages after a whole-image layer (global pooling, a squeeze-and-excitation gate), drawn at their
    field box like the others, and hollow where no neuron sees every pixel all the same (pixels no layer reads).
    Any other head (a fully connected layer) has a hexagon of its own: a 1 x 1 output has no jump. A refused
    network keeps its line, with the word "refused".

    Parameters
    ----------
    table : ZooTable
    width : float, default 9.5
        Inches.

    Examples
    --------
    >>> from rfmaps.models.zoo import zoo_table
    >>> picture = stage_fields(zoo_table(["vgg16 (TF-slim)", "resnet50 (torchvision)"]))
    >>> picture.alt_text()
    'receptive field of every stage on a 224 × 224 image: 1 panel, 2 networks, one line each'
    """
    names: List[str] = list(table.networks)
    side = table.input_size
    height = 1.5 + 0.3 * max(len(names), 4)
    fig = make_figure((width, height), interactive=False)
    ax = fig.add_axes((0.2, 0.9 / height, 0.44, 1 - 1.35 / height))
    refused = {r.name for r in table.refused}
    seen: Dict[str, Any] = {}
    largest = max([s.row.rf_size[0] for s in table] + [max(side)])
    for y, name in enumerate(names):
        ax.axhline(y, color="#BBBBBB", linewidth=0.6, zorder=0)
        if name in refused:
            ax.text(1.15, y, "refused (see the table)", va="center", fontsize=TEXT_PT, color=DARK)
            continue
        for s in (s for s in table if s.network == name):
            rf, jump = s.row.rf_size[0], s.row.jump[0]
            if s.row.whole_image:
                label, marker, face = "after a whole-image layer", "*", HIGHLIGHT if s.whole else "white"
                size = 12
            elif s.stage == "head":  # a 1 x 1 output has no neighbour: its jump means nothing here
                label, marker = "head (1 × 1 output)", "H"
                face = DARK if s.whole else "white"
                size = 8
            else:
                label, marker = f"jump {jump}", _marker(jump)
                face = DARK if s.whole else "white"
                size = 7
            (mark,) = ax.plot([rf], [y], linestyle="none", marker=marker, markersize=size, markerfacecolor=face,
                              markeredgecolor=DARK, markeredgewidth=1.2, zorder=3)
            seen.setdefault(label, mark)
    edge = ax.axvline(side[1], color=HIGHLIGHT, linestyle="--", linewidth=1.6, zorder=1)
    ax.set_xscale("log")
    ax.set_xlim(0.8, largest * 1.6)
    ax.set_ylim(len(names) - 0.4, -0.6)
    ax.set_yticks(range(len(names)), names, fontsize=TEXT_PT)
    ax.tick_params(axis="x", labelsize=TEXT_PT)
    ax.set_xlabel("receptive field, one side (pixels, log scale)", fontsize=TEXT_PT)
    ax.set_title(f"receptive field of every stage on a {side[0]} × {side[1]} image", fontsize=TEXT_PT + 1)
    # The key: jumps in order, then the whole-image star; a filled mark is explained by the last entry.
    order = sorted((k for k in seen if k.startswith("jump")), key=lambda k: float(k.split()[1]))
    order += [k for k in seen if not k.startswith("jump")]
    if "after a whole-image layer" in seen:  # the key shows the star filled, like the stages that see all pixels
        from matplotlib.lines import Line2D

        seen["after a whole-image layer"] = Line2D([], [], linestyle="none", marker="*", markersize=12,
                                                   markerfacecolor=HIGHLIGHT, markeredgecolor=DARK,
                                                   markeredgewidth=1.2)
    handles = [edge] + [seen[k] for k in order]
    labels = [f"image side, {side[1]} px"] + list(order)
    if any(s.whole for s in table):
        from matplotlib.lines import Line2D

        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=7, markerfacecolor=DARK,
                              markeredgecolor=DARK))
        labels.append("filled: a neuron sees all pixels")
    ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.02, 1.0), fontsize=TEXT_PT, frameon=False,
              borderaxespad=0)
    picture = Picture(fig)
    count = len(names)
    picture.alt_text = lambda: (f"{ax.get_title()}: 1 panel, {count} network{'s' * (count != 1)}, "  # type: ignore
                                "one line each")
    return picture
