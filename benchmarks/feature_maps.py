"""Speed of rfmaps.feature_maps against a naive loop (and PyTorch, if installed).

Run:  .venv/bin/python benchmarks/feature_maps.py

Prints median times over repeated runs, the ratio to the naive baseline
measured in the same run, and the peak memory for a 1024 x 1024 image.

PyTorch is not a dependency. To compare with it, run the script with a Python
that has torch and rfmaps' requirements, e.g. a scratch venv:
``python -m venv /tmp/tv && /tmp/tv/bin/pip install torch numpy scipy matplotlib``
then ``PYTHONPATH=. /tmp/tv/bin/python benchmarks/feature_maps.py``. Two torch
timings are printed: the final output only, and every layer's output kept as
a numpy array (the same result as ``feature_maps``).
"""

import statistics
import time
import tracemalloc

import numpy as np
from scipy.signal import correlate2d

from rfmaps import Conv2d, ReLU, feature_maps
from rfmaps.engine.kernels import layer_weights

LAYERS = [
    Conv2d(3, 16, 5, stride=2, padding=2), ReLU(),
    Conv2d(16, 32, 3, padding=2, dilation=2), ReLU(),
    Conv2d(32, 32, 3, stride=2, padding=1), ReLU(),
    Conv2d(32, 16, 3, padding=1), ReLU(),
]


def naive(layers, image):
    """What a first notebook writes: correlate2d per (output, input) channel pair."""
    x = np.moveaxis(image, -1, 0).astype(np.float32)
    outs = []
    for layer, weight in zip(layers, layer_weights(layers)):
        if isinstance(layer, ReLU):
            x = np.maximum(x, 0)
        else:
            (p, _), (q, _) = layer.pads
            padded = np.pad(x, ((0, 0), (p, p), (q, q)))
            dil = np.zeros((layer.out_channels, layer.in_channels) + layer.effective_kernel_size)
            dil[:, :, :: layer.dilation[0], :: layer.dilation[1]] = weight
            maps = []
            for o in range(layer.out_channels):
                acc = sum(correlate2d(padded[c], dil[o, c], mode="valid") for c in range(layer.in_channels))
                maps.append(acc[:: layer.stride[0], :: layer.stride[1]])
            x = np.array(maps, dtype=np.float32)
        outs.append(x)
    return outs


def median_time(function, repeats):
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        function()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def interleaved_medians(functions, rounds=12, runs=5, pause=0.2):
    """Median time of each function, timed in turns so that all see the same machine.

    This VM's speed drifts by tens of percent within a minute, so the
    contenders take turns: a few runs each, round after round. Before its
    turn each one waits ``pause`` seconds and runs once untimed, because the
    thread pools of BLAS and PyTorch keep spinning on the cores for a while
    after their last call and would slow down whoever runs next.
    """
    times = [[] for _ in functions]
    for _ in range(rounds):
        for function, spent in zip(functions, times):
            time.sleep(pause)
            function()
            for _ in range(runs):
                start = time.perf_counter()
                function()
                spent.append(time.perf_counter() - start)
    return [statistics.median(spent) for spent in times]


def torch_runners(image):
    """The same stack in torch.nn.functional: (final output only, every map kept), or None."""
    try:
        import torch
        import torch.nn.functional as F
    except ImportError:
        return None
    torch.set_num_threads(2)
    weights = [None if w is None else torch.tensor(w, dtype=torch.float32) for w in layer_weights(LAYERS)]

    def run_torch(keep=False):
        x = torch.tensor(np.moveaxis(image, -1, 0)[None], dtype=torch.float32)
        maps = []
        with torch.no_grad():
            for layer, w in zip(LAYERS, weights):
                x = F.relu(x) if w is None else F.conv2d(x, w, stride=layer.stride,
                                                         padding=layer.padding, dilation=layer.dilation)
                if keep:
                    maps.append(x[0].numpy())
        return maps if keep else x

    return run_torch, lambda: run_torch(keep=True)


def main():
    image = np.random.default_rng(0).random((224, 224, 3))
    runners = torch_runners(image)
    contenders = [lambda: feature_maps(LAYERS, image)] + list(runners or [])
    medians = interleaved_medians(contenders)
    ours = medians[0]
    base = median_time(lambda: naive(LAYERS, image), 3)
    check = max(float(np.abs(a - b).max()) for a, b in zip(feature_maps(LAYERS, image), naive(LAYERS, image)))
    print("224 x 224 RGB, 4 x (conv + ReLU), 16-32 channels, stride and dilation")
    print(f"  rfmaps.feature_maps          median {ours * 1e3:8.1f} ms")
    print(f"  naive correlate2d loops      median {base * 1e3:8.1f} ms   ratio {base / ours:6.1f} x slower"
          "   (goal: at least 20)")
    print(f"  largest difference between the two: {check:.2e}")
    if runners is None:
        print("  torch: not installed, comparison skipped")
    else:
        last, kept = medians[1:]
        torch_maps = runners[1]()
        check = max(float(np.abs(a - b).max()) for a, b in zip(feature_maps(LAYERS, image), torch_maps))
        print(f"  torch, final output only     median {last * 1e3:8.1f} ms   rfmaps / torch = {ours / last:.2f}")
        print(f"  torch, every map kept        median {kept * 1e3:8.1f} ms   rfmaps / torch = {ours / kept:.2f}"
              "   (the same result as rfmaps; goal: at most 2)")
        print(f"  largest difference from torch: {check:.2e}")

    big = np.zeros((1024, 1024, 3), dtype=np.float32)
    stack = [Conv2d(3, 16, 3, padding=1), ReLU(), Conv2d(16, 16, 3, padding=1), ReLU()] * 2
    stack[4] = Conv2d(16, 16, 3, padding=1)
    tracemalloc.start()
    maps = feature_maps(stack, big)
    peak = tracemalloc.get_traced_memory()[1]
    tracemalloc.stop()
    kept = sum(m.nbytes for m in maps)
    print("1024 x 1024 RGB, 4 x (conv + ReLU), 16 channels")
    print(f"  peak memory {peak / 1e6:.0f} MB, of which the returned maps {kept / 1e6:.0f} MB")


if __name__ == "__main__":
    main()
