"""Speed of the explorers in the kernel: every control swept over its whole range.

Run:  .venv/bin/python benchmarks/explorers.py [--quick]

Each explorer is built as a notebook builds it, on the Agg canvas (what ipympl
renders with), with blitting on as under ipympl. A *change* is one control
value set, which renders the full figure (``canvas.draw()``, the work ipympl
does before it sends a frame). A *selection* is one ``select`` call with its
blit (the declared selection artists only; for ERFExplorer the heat map and profile are among them,
and a selection that moves its zoom window draws the whole figure).

Every legal value of every control is visited, up and back down its range
(so each value is reached from both neighbours); the figures are medians and
95th percentiles over all those changes, in wall-clock time and in CPU time
of this thread (what the change itself costs, whatever else the machine
runs). Goals (issue #16): p95 <= 50 ms per change, <= 16.7 ms per selection. The baseline re-plots the ConvExplorer
panels from scratch in a new figure, as a notebook without an explorer would.
"""

import os
import statistics
import sys
import time

import matplotlib

matplotlib.use("Agg")

import ipywidgets as widgets  # noqa: E402

from rfmaps import feature_maps  # noqa: E402

from rfmaps.drawing import figures as drawing  # noqa: E402
from rfmaps.widgets import ConvExplorer, ERFExplorer, StackExplorer  # noqa: E402

CHANGE_GOAL, SELECTION_GOAL = 50.0, 16.7


def p95(times):
    ordered = sorted(times)
    return ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]


CPU = []  # CPU time of this thread for every timed action: the same figures without a busy machine's waits


def timed(action) -> float:
    """Wall-clock milliseconds of ``action()``; its CPU milliseconds go to ``CPU``."""
    cpu, start = time.thread_time(), time.perf_counter()
    action()
    CPU.append(1e3 * (time.thread_time() - cpu))
    return 1e3 * (time.perf_counter() - start)


def sweep_values(control):
    """Up the whole range and back down, ending where it started."""
    if isinstance(control, widgets.Checkbox):
        return [not control.value, control.value]
    if isinstance(control, widgets.SelectionSlider):
        return None  # the layer of StackExplorer: swept as a selection
    if isinstance(control, widgets.Dropdown):
        return [v for v in control.options if v != control.value] + [control.value]
    values = list(range(control.min, control.max + 1))
    return values + values[::-1][1:] + [control.value]


def sweep_changes(explorer, skip=()):
    """{control: [ms per change]} over every legal value of every network control."""
    out = {}
    for name, control in explorer.controls.items():
        if name in explorer.selection_controls or name in skip:
            continue
        values = sweep_values(control)
        times = []
        for value in values:
            if isinstance(control, widgets.IntSlider) and not control.min <= value <= control.max:
                continue  # a range that adapted to another control
            times.append(timed(lambda: explorer.set(**{name: value})))  # set() renders the figure (Agg)
            assert explorer.message == "" or "shrink" in explorer.message, explorer.message
        out[name] = times
    return out


def sweep_selections(explorer, step=1):
    """[ms per selection] over every neuron of each shown layer (every ``step``-th row and column).

    Also prints how many selections drew the whole figure (the explorer base blits unless something
    besides the view's declared selection artists changed: ERFExplorer's zoom window, for example).
    """
    times, draws = [], []
    canvas = explorer.figure.canvas
    watch = canvas.mpl_connect("draw_event", draws.append)
    state = explorer._state
    for layer in explorer._shown_layers(state):
        h, w = state.rows[layer].output_size
        for row in range(0, h, step):
            col = (row * 7) % w  # a walk over rows and columns together
            times.append(timed(lambda: explorer.select(row, col, layer=layer)))
            assert explorer.message == "", explorer.message
    canvas.mpl_disconnect(watch)
    print(f"  {len(draws)} of {len(times)} selections drew the whole figure; the others were blitted")
    return times


def report(title, changes, selections, cpu):
    """Wall-clock figures per control and overall; ``cpu`` holds the CPU times of the changes, then selections."""
    print(title)
    every = [t for times in changes.values() for t in times]
    for name, times in changes.items():
        print(f"  change {name:<14} n={len(times):3d}  median {statistics.median(times):6.1f} ms  "
              f"p95 {p95(times):6.1f} ms")
    cpu_changes, cpu_selections = cpu[:len(every)], cpu[len(every):]
    print(f"  every change          n={len(every):3d}  median {statistics.median(every):6.1f} ms  "
          f"p95 {p95(every):6.1f} ms   goal p95 <= {CHANGE_GOAL} ms  "
          f"{'met' if p95(every) <= CHANGE_GOAL else 'MISSED'}   (CPU p95 {p95(cpu_changes):.1f} ms)")
    print(f"  selection             n={len(selections):3d}  median {statistics.median(selections):6.1f} ms  "
          f"p95 {p95(selections):6.1f} ms   goal p95 <= {SELECTION_GOAL} ms  "
          f"{'met' if p95(selections) <= SELECTION_GOAL else 'MISSED'}   (CPU p95 {p95(cpu_selections):.1f} ms)")
    return p95(every), p95(selections)


def replot_conv(explorer):
    """The baseline: a new figure with the same three panels, drawn once."""
    state = explorer._state
    fig = drawing.make_figure(explorer.figsize, interactive=False)
    axes = fig.subplots(1, 3)
    drawing.show_input(axes[0], state.image, "input")
    axes[1].imshow(drawing.mosaic(state.kernels.sum(axis=1), gap=1)[0], cmap=drawing.MAP_CMAP)
    maps = feature_maps(state.layers, state.image)[0]
    axes[2].imshow(drawing.mosaic(maps)[0], cmap=drawing.MAP_CMAP)
    for ax in axes:
        ax.set_title("panel")
    fig.canvas.draw()


def main(quick=False):
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    # The explorers as the notebooks build them (01, 05, 07).
    conv = ConvExplorer("photo", kernel_size=5, kernels=6, blit=True)
    conv.figure.canvas.draw()
    CPU.clear()
    changes = sweep_changes(conv)
    selections = sweep_selections(conv)
    cpu = list(CPU)
    replot = [timed(lambda: replot_conv(conv)) for _ in range(10)]
    results = [report("ConvExplorer('photo', kernel_size=5, kernels=6)", changes, selections, cpu)]
    print(f"  re-plot from scratch (baseline)  median {statistics.median(replot):6.1f} ms")

    stack = StackExplorer("photo", depth=4, kernel_size=3, blit=True)
    stack.figure.canvas.draw()
    # Block rows 3 to 8 repeat rows 1 and 2; --quick skips them.
    skip = [f"{n}_{i}" for n in ("kernel_size", "stride", "dilation", "pool") for i in range(3, 9)] if quick else []
    start = len(CPU)
    changes = sweep_changes(stack, skip)
    selections = sweep_selections(stack)
    results.append(report("StackExplorer('photo', depth=4, kernel_size=3)", changes, selections, CPU[start:]))

    erf = ERFExplorer("photo", depth=4, kernel_size=3, blit=True)
    erf.figure.canvas.draw()
    start = len(CPU)
    changes = sweep_changes(erf)
    selections = sweep_selections(erf)
    results.append(report("ERFExplorer('photo', depth=4, kernel_size=3)", changes, selections, CPU[start:]))
    worst_change, worst_selection = max(r[0] for r in results), max(r[1] for r in results)
    print(f"worst p95: change {worst_change:.1f} ms (goal {CHANGE_GOAL}), "
          f"selection {worst_selection:.1f} ms (goal {SELECTION_GOAL})")
    print(f"load average after: {os.getloadavg()[0]:.2f}  (wall-clock figures grow with it; "
          "CPU figures are this thread's own work)")


if __name__ == "__main__":
    main(quick="--quick" in sys.argv)
