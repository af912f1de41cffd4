"""Speed of the explorers: a neuron selection and a control change, against a re-plot.

Run:  .venv/bin/python benchmarks/explorers.py

Everything is drawn on the Agg canvas (what ipympl renders with). The
baseline re-plots the same panels from scratch in a new figure, as a
notebook without an explorer would on every change.
"""

import statistics
import time

import matplotlib

matplotlib.use("Agg")

from rfmaps import drawing, feature_maps  # noqa: E402
from rfmaps.widgets import ConvExplorer, ERFExplorer, StackExplorer  # noqa: E402


def median_ms(action, repeats=30):
    times = []
    for i in range(repeats):
        start = time.perf_counter()
        action(i)
        times.append(time.perf_counter() - start)
    return 1e3 * statistics.median(times)


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


def main():
    conv = ConvExplorer("photo", kernel_size=3, kernels=8, size=64, blit=True)
    conv.figure.canvas.draw()
    h, w = conv._state.maps.shape[1:]
    select = median_ms(lambda i: conv.select(i % h, (3 * i) % w))
    change = median_ms(lambda i: conv.set(kernel_size=3 + 2 * (i % 3)))
    replot = median_ms(lambda i: replot_conv(conv), repeats=10)
    print("ConvExplorer, 64-pixel photo, 8 kernels (Agg canvas)")
    print(f"  neuron selection (blitted overlays)  median {select:7.1f} ms   goal 16.7 ms")
    print(f"  control change (kernel size)         median {change:7.1f} ms   goal 50 ms")
    print(f"  re-plot from scratch (baseline)      median {replot:7.1f} ms   "
          f"change is {replot / change:.1f} x faster, selection {replot / select:.1f} x")

    stack = StackExplorer("photo", depth=4, pool=True, blit=True)
    stack.figure.canvas.draw()
    select = median_ms(lambda i: stack.select(i % 3, (i // 3) % 3, layer=4))
    change = median_ms(lambda i: stack.set(kernel_size_2=3 + 2 * (i % 2)))
    print("StackExplorer, depth 4 with pooling")
    print(f"  neuron selection                     median {select:7.1f} ms")
    print(f"  control change (layer 2 kernel)      median {change:7.1f} ms")

    erf = ERFExplorer("photo", depth=4)
    change = median_ms(lambda i: erf.set(kernel_size=3 + 2 * (i % 2)), repeats=10)
    print("ERFExplorer, depth 4")
    print(f"  control change (kernel size)         median {change:7.1f} ms")


if __name__ == "__main__":
    main()
