"""Cost of the selected neuron's own field, which every explorer readout quotes (issue #25).

Run:  .venv/bin/python benchmarks/selection_readouts.py

For each stack, 200 neurons of the last layer (spread over the map) are asked
for their field two ways, in the same run:

* baseline: ``input_region`` alone (clip=True), the only arithmetic the readouts
  did per selection before they quoted the neuron's own field;
* ``neuron_field``: the exact box (clip=False), the seen box and the centre.

It prints medians and 95th percentiles (CPU time of this thread, microseconds)
and the ratio of the medians; then one explorer ``select`` (its readout and
outlines, blitted on Agg) as a median and p95 over 60 selections, milliseconds.
"""

import statistics
import time

import matplotlib

matplotlib.use("Agg")

import numpy as np  # noqa: E402

from rfmaps import (Conv2d, ConvTranspose2d, ReLU, Upsample, architectures, input_region,  # noqa: E402
                    receptive_fields, trained)
from rfmaps.arithmetic.receptive_field import neuron_field  # noqa: E402
from rfmaps.widgets import ERFExplorer, StackExplorer  # noqa: E402

UNET = [Conv2d(1, 8, 3, padding=1), ReLU(), Conv2d(8, 8, 3, stride=2, padding=1), ReLU(),
        ConvTranspose2d(8, 8, 3, stride=2, padding=1, output_padding=1), ReLU(), Upsample(2),
        Conv2d(8, 8, 3, padding=1)]
STACKS = {"small_cnn, 32": (tuple(trained.small_cnn()), 32), "encoder-decoder, 64": (tuple(UNET), 64),
          "vgg16, 224": (tuple(architectures.vgg16()), 224)}


def p95(values):
    ordered = sorted(values)
    return ordered[round(0.95 * (len(ordered) - 1))]


def cpu_us(action) -> float:
    start = time.thread_time()
    action()
    return 1e6 * (time.thread_time() - start)


def main():
    for name, (layers, size) in STACKS.items():
        h, w = receptive_fields(layers, size)[-1].output_size
        neurons = [((7 * i) % h, (13 * i) % w) for i in range(200)]
        base = [cpu_us(lambda n=n: input_region(layers, n, size)) for n in neurons]
        own = [cpu_us(lambda n=n: neuron_field(layers, n, size)) for n in neurons]
        print(f"{name:22s} input_region median {statistics.median(base):8.0f} us  p95 {p95(base):8.0f} us | "
              f"neuron_field median {statistics.median(own):8.0f} us  p95 {p95(own):8.0f} us | "
              f"ratio {statistics.median(own) / statistics.median(base):.2f}")
    image = np.random.default_rng(0).random((64, 64))
    for name, make in {"StackExplorer, encoder-decoder": lambda: StackExplorer(image, layers=UNET, blit=True),
                       "ERFExplorer, encoder-decoder": lambda: ERFExplorer(image, layers=UNET, blit=True),
                       "StackExplorer, default": lambda: StackExplorer("photo", blit=True)}.items():
        explorer = make()
        explorer.figure.canvas.draw()
        layer, r0, c0 = explorer.selected
        h, w = explorer._state.rows[layer].output_size
        times = [cpu_us(lambda i=i: explorer.select((r0 + 3 * i) % h, (c0 + 5 * i) % w, layer=layer)) / 1e3
                 for i in range(60)]
        print(f"{name:32s} select median {statistics.median(times):6.2f} ms  p95 {p95(times):6.2f} ms")
        explorer.close()


if __name__ == "__main__":
    main()
