"""One picture of many networks' stages: the receptive field of each stage, network by network.

Draws a table of :func:`rfmaps.models.zoo.zoo_table` (any sequence of stages with ``network``, ``stage``,
``row`` (``rf_size``, ``jump``, ``whole_image``), ``whole``, ``neurons`` and ``gated``, and ``refused``), so this
module needs nothing from :mod:`rfmaps.models`.
"""

from __future__ import annotations

from typing import Any, Dict, List

import numpy as np

from .figures import DARK, HIGHLIGHT, TEXT_PT, Picture, compare, make_figure

__all__ = ["stage_fields", "JUMP_MARKERS", "GATED_LABEL", "effective_outlined"]

#: One marker shape per jump (the stage's stride so far), so stages differ in shape, not in colour alone.
JUMP_MARKERS: Dict[int, str] = {1: "P", 2: "o", 4: "s", 8: "^", 16: "D", 32: "v", 64: "X"}


def _marker(jump: Any) -> str:
    return JUMP_MARKERS.get(int(jump), "h") if float(jump).is_integer() else "h"


#: What the ring around a gated stage's mark says (the key's entry).
GATED_LABEL = "ring: gated, every neuron also depends on the whole map the gate reads"


def _lanes(xs: List[float], gap: float) -> List[int]:
    """For marks at log-scale positions ``xs`` (in order along one line), 0 (on the line) or 1 (just below it):
    a mark closer than ``gap`` to the last one on its lane moves to the other lane, so no two marks overlap
    (DenseNet's last stage and head lie 9% apart)."""
    last = [-np.inf, -np.inf]
    lanes = []
    for x in xs:
        lane = 0 if x - last[0] >= gap else (1 if x - last[1] >= gap else 0)
        last[lane] = x
        lanes.append(lane)
    return lanes


def stage_fields(table, width: float = 9.5) -> Picture:
    """Each network on one line: a mark per stage at its receptive field (log scale), the image side as a line.

    Marks are shaped by the stage's jump and filled where at least one neuron sees every pixel; a star marks
    the stages after a whole-image layer (global pooling), drawn at their field box like the others, and
    hollow where no neuron sees every pixel all the same (pixels no layer reads). Any other head (a fully
    connected layer) has a hexagon of its own: a 1 x 1 output has no jump. A gated stage (a
    squeeze-and-excitation gate at or before it) is drawn at the field of its convolution path, with a ring:
    through the gate every neuron also depends on the whole map the gate reads. Two marks that would overlap
    are drawn one on the line, one just below it. A refused network keeps its line, with the word "refused".
    The key is under the plot.

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
    from matplotlib.lines import Line2D

    names: List[str] = list(table.networks)
    side = table.input_size
    text = TEXT_PT + 1  # read on a projector
    mark, star, ring = 11, 17, 19
    line = 0.5  # inches per network
    gated_any = any(getattr(s, "gated", False) and not s.row.whole_image for s in table)
    entries = 2 + len({s.row.jump[0] for s in table if s.stage != "head" and not s.row.whole_image}) + len(
        {s.row.whole_image for s in table if s.stage == "head" or s.row.whole_image})
    top, below = 0.5, 0.75  # title; ticks and axis label
    key = 0.28 * -(-entries // 4) + 0.3 * gated_any + 0.1  # the key: four entries a row, the gated one below
    height = top + line * max(len(names), 2) + below + key
    fig = make_figure((width, height), interactive=False)
    left = min(0.3, (0.45 + 0.085 * max([len(n) for n in names] + [4])) / width)
    ax = fig.add_axes((left, (below + key) / height, 0.97 - left, 1 - (top + below + key) / height))
    refused = {r.name for r in table.refused}
    seen: Dict[str, Any] = {}
    largest = max([s.row.rf_size[0] for s in table] + [max(side)])
    low, high = min([s.row.rf_size[0] for s in table] + [max(side)]) / 1.6, largest * 1.6
    # A mark's width in decades of the log axis: marks closer than that share a lane only if they do not touch.
    axes_inches = (0.97 - left) * width
    gap = (star / 72) / axes_inches * (np.log10(high) - np.log10(low))
    for y, name in enumerate(names):
        ax.axhline(y, color="#BBBBBB", linewidth=0.6, zorder=0)
        if name in refused:
            ax.text(1.15, y, "refused (see the table)", va="center", fontsize=text, color=DARK)
            continue
        found = [s for s in table if s.network == name]
        lanes = _lanes([float(np.log10(s.row.rf_size[0])) for s in found], gap)
        for s, lane in zip(found, lanes):
            rf, jump = s.row.rf_size[0], s.row.jump[0]
            at = y + 0.3 * lane
            if s.row.whole_image:
                label, marker, face = "after a global pooling", "*", HIGHLIGHT if s.whole else "white"
                size = star
            elif s.stage == "head":  # a 1 x 1 output has no neighbour: its jump means nothing here
                label, marker = "head: fully connected layer", "H"
                face = DARK if s.whole else "white"
                size = mark + 1
            else:
                label, marker = f"jump {jump}", _marker(jump)
                face = DARK if s.whole else "white"
                size = mark
            if getattr(s, "gated", False) and not s.row.whole_image:
                (circle,) = ax.plot([rf], [at], linestyle="none", marker="o", markersize=ring,
                                    markerfacecolor="none", markeredgecolor=HIGHLIGHT, markeredgewidth=2.2,
                                    zorder=2)
                seen.setdefault(GATED_LABEL, circle)
            (drawn,) = ax.plot([rf], [at], linestyle="none", marker=marker, markersize=size, markerfacecolor=face,
                               markeredgecolor=DARK, markeredgewidth=1.4, zorder=3)
            seen.setdefault(label, drawn)
    edge = ax.axvline(side[1], color=HIGHLIGHT, linestyle="--", linewidth=1.8, zorder=1)
    ax.set_xscale("log")
    ax.set_xlim(low, high)
    ax.set_ylim(len(names) - 0.45, -0.55)
    ax.set_yticks(range(len(names)), names, fontsize=text)
    ax.tick_params(axis="x", labelsize=text)
    ax.set_xlabel("receptive field, one side (pixels, log scale)", fontsize=text)
    ax.set_title(f"receptive field of every stage on a {side[0]} × {side[1]} image", fontsize=text + 1)
    # The key: jumps in order, then the whole-image star; a filled mark is explained by the last entry.
    order = sorted((k for k in seen if k.startswith("jump")), key=lambda k: float(k.split()[1]))
    order += [k for k in seen if not k.startswith("jump") and k != GATED_LABEL]
    order += [GATED_LABEL] * (GATED_LABEL in seen)
    if "after a global pooling" in seen:  # the key shows the star filled, like the stages that see all pixels
        seen["after a global pooling"] = Line2D([], [], linestyle="none", marker="*", markersize=star,
                                                   markerfacecolor=HIGHLIGHT, markeredgecolor=DARK,
                                                   markeredgewidth=1.4)
    handles = [edge] + [seen[k] for k in order]
    labels = [f"image side, {side[1]} px"] + list(order)
    if any(s.whole for s in table):
        handles.append(Line2D([], [], linestyle="none", marker="o", markersize=mark, markerfacecolor=DARK,
                              markeredgecolor=DARK))
        labels.append("filled: a neuron sees all pixels")
    # Short entries four to a row, the long gated entry on a row of its own (last).
    short = [(h, l) for h, l in zip(handles, labels) if l != GATED_LABEL]
    legend = ax.legend([h for h, _ in short], [l for _, l in short], loc="upper center", ncol=4,
                       bbox_to_anchor=(0.5 - left / 2 / (0.97 - left), -below / (line * max(len(names), 2))),
                       fontsize=text, frameon=False, borderaxespad=0, columnspacing=1.2, handletextpad=0.3)
    if GATED_LABEL in labels:
        ax.add_artist(legend)
        rows = -(-len(short) // 4)
        ax.legend([seen[GATED_LABEL]], [GATED_LABEL], loc="upper center", fontsize=text, frameon=False,
                  borderaxespad=0, handletextpad=0.3,
                  bbox_to_anchor=(0.5 - left / 2 / (0.97 - left),
                                  -(below + 0.27 * rows) / (line * max(len(names), 2))))
    picture = Picture(fig)
    count = len(names)
    picture.alt_text = lambda: (f"{ax.get_title()}: 1 panel, {count} network{'s' * (count != 1)}, "  # type: ignore
                                "one line each")
    return picture


def effective_outlined(effective, heading: str = "effective field of the middle neuron of the last stage") -> Picture:
    """The heat maps of :func:`rfmaps.models.zoo.effective_fields` side by side (each divided by its largest
    value), each with its neuron's theoretical field outlined (clipped to the image) and a cross at the pixel
    nearest the field's centre.

    Examples
    --------
    >>> import numpy as np
    >>> from rfmaps import Conv2d
    >>> from rfmaps.models.zoo import effective_fields
    >>> e = effective_fields({"two 3 x 3": [Conv2d(1, 1, 3, weight=np.ones((1, 1, 3, 3)))] * 2}, np.ones((9, 9)))
    >>> picture = effective_outlined(e)
    >>> sum(len(ax.patches) for ax in picture.figure.axes)
    1
    """
    from matplotlib.patches import Rectangle

    picture = compare(effective.shares, heading, heat=True, quantity="share of the largest |gradient|")
    panels = [ax for ax in picture.figure.axes if ax.images and ax.get_title()]
    for ax, e in zip(panels, effective):
        (top, bottom), (left, right) = e.box
        # Not clipped: where the field is the whole image the outline lies on the frame, and clipped it
        # showed half its width (hard to see on a projector, instructor review).
        ax.add_patch(Rectangle((left - 0.5, top - 0.5), right - left + 1, bottom - top + 1, fill=False,
                               edgecolor=HIGHLIGHT, linewidth=2.5, linestyle="--", clip_on=False, zorder=3))
        ax.plot([e.centre[1]], [e.centre[0]], marker="+", markersize=14, markeredgewidth=2.2, color=HIGHLIGHT)
    return picture
