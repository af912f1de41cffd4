"""The speed table of issue #27: rfmaps against PyTorch (float32, CPU), each ratio from one run.

Run:  .venv/bin/python benchmarks/speed_table.py [--quick] [--threads N]

Rows (each a median over interleaved turns, see ``interleaved_medians``):

1. engine forward on random stacks: ``rfmaps.feature_maps`` against the same
   layers in ``torch.nn.functional`` with the same weights, every layer's map
   kept as a numpy array (what ``feature_maps`` returns); float32, CPU.
2. ResNet-50 trunk (``architectures.resnet50('torchvision')``, default
   weights) at 224 x 224: ``feature_maps`` against torch's forward of the same
   layers, final output only and every map kept.
3. the effective receptive field of the trunk's centre neuron:
   ``effective_receptive_field`` against torch autograd of the same network
   (float64, the precision rfmaps computes gradients in; float32 too).
4. ConvExplorer: one change of the ``kernels`` control, every value 1 to 256 up
   and back (``set`` renders the figure on the Agg canvas), p95 of wall-clock
   and CPU time; the goal is 50 ms.

Both libraries get the same threads: torch.set_num_threads(n) and the BLAS
pool that numpy uses (threadpoolctl) set to n (default 2, this machine's cores; on a
machine busy with other work, --threads 1 gives steadier ratios).
torch is a test extra, not a dependency: the script needs the .venv of ``make test``.
"""

import os
import statistics
import sys
import time

import numpy as np

sys.path.insert(0, os.path.dirname(__file__))
sys.path.insert(0, os.path.join(os.path.dirname(__file__), os.pardir, "tests"))
from feature_maps import interleaved_medians  # noqa: E402
from reference import torch_layer  # noqa: E402

import rfmaps  # noqa: E402
from rfmaps import (AvgPool2d, Conv2d, MaxPool2d, ReLU, architectures,  # noqa: E402
                    effective_receptive_field, feature_maps)
from rfmaps.engine.kernels import layer_weights  # noqa: E402

THREADS = 2


def torch_stack(layers, dtype):
    """Each layer as a torch function with rfmaps' weights: the translation tests/test_torch.py checks."""
    return [torch_layer(l, w, dtype=dtype) for l, w in zip(layers, layer_weights(layers))]


def torch_forward(functions, image, dtype, keep):
    import torch

    x = torch.tensor(np.moveaxis(image, -1, 0)[None], dtype=dtype)
    maps = []
    with torch.no_grad():
        for f in functions:
            x = f(x)
            if keep:
                maps.append(x[0].numpy())
    return maps if keep else x


def random_stack(rng, channels=3):
    """3 to 6 layers of the kinds the notebooks use, with random geometry and widths."""
    layers = []
    for _ in range(rng.integers(3, 7)):
        kind = rng.choice(["conv", "conv", "conv", "relu", "max", "avg"])
        if kind == "conv":
            k, d = int(rng.choice([1, 3, 5, 7])), int(rng.choice([1, 1, 2]))
            out = int(rng.choice([8, 16, 32, 64]))
            layers.append(Conv2d(channels, out, k, int(rng.choice([1, 1, 2])), (k // 2) * d, d))
            channels = out
        elif kind == "relu":
            layers.append(ReLU())
        elif kind == "max":
            layers.append(MaxPool2d(2))
        else:
            layers.append(AvgPool2d(3, 1, 1))
    return layers


def largest_difference(ours, theirs):
    return max(float(np.abs(a - b).max() / max(1.0, np.abs(b).max())) for a, b in zip(ours, theirs))


def engine_rows(quick):
    import torch

    rng = np.random.default_rng(27)
    image = rng.random((160, 160, 3)).astype(np.float32)
    ratios = []
    print("1. engine forward, random stacks, 160 x 160 RGB, every map kept, float32")
    for index in range(4 if quick else 10):
        layers = random_stack(rng)
        functions = torch_stack(layers, torch.float32)
        ours, theirs = interleaved_medians(
            [lambda: feature_maps(layers, image), lambda: torch_forward(functions, image, torch.float32, True)],
            rounds=3 if quick else 6, runs=3)
        error = largest_difference(feature_maps(layers, image), torch_forward(functions, image, torch.float32, True))
        ratios.append(ours / theirs)
        print(f"   stack {index}: {len(layers)} layers  rfmaps {ours * 1e3:7.1f} ms  torch {theirs * 1e3:7.1f} ms  "
              f"ratio {ours / theirs:5.2f}  (largest relative difference {error:.1e})")
    print(f"   ratio rfmaps / torch: median {statistics.median(ratios):.2f}, "
          f"from {min(ratios):.2f} to {max(ratios):.2f}   goal <= 1.0")


def resnet_rows(quick):
    import torch

    net = architectures.resnet50("torchvision")
    image = np.random.default_rng(0).random((224, 224, 3)).astype(np.float32)
    functions = torch_stack(net, torch.float32)
    feature_maps(net, image)  # the default weights and the plan, made once (a notebook's first call)
    ours, final, kept = interleaved_medians(
        [lambda: feature_maps(net, image), lambda: torch_forward(functions, image, torch.float32, False),
         lambda: torch_forward(functions, image, torch.float32, True)], rounds=2 if quick else 5, runs=2)
    error = largest_difference(feature_maps(net, image)[-1:], torch_forward(functions, image, torch.float32, True)[-1:])
    print("2. ResNet-50 trunk (torchvision's layout, default weights), 224 x 224 RGB, float32")
    print(f"   rfmaps.feature_maps {ours * 1e3:7.1f} ms   torch, final output {final * 1e3:7.1f} ms   "
          f"torch, every map kept {kept * 1e3:7.1f} ms")
    print(f"   ratio rfmaps / torch (final output) {ours / final:.2f}, (every map kept) {ours / kept:.2f}   "
          f"goal <= 1.5   (largest relative difference {error:.1e})")

    rows = rfmaps.receptive_fields(net, 224)
    centre = tuple(n // 2 for n in rows[-1].output_size)

    def torch_erf(dtype):
        functions = torch_stack(net, dtype)

        def run():
            x = torch.tensor(np.moveaxis(image, -1, 0)[None], dtype=dtype, requires_grad=True)
            y = x
            for f in functions:
                y = f(y)
            y[0, :, centre[0], centre[1]].sum().backward()
            return x.grad[0].abs().sum(0).numpy()
        return run

    run64, run32 = torch_erf(torch.float64), torch_erf(torch.float32)
    ours, t64, t32 = interleaved_medians([lambda: effective_receptive_field(net, centre, image), run64, run32],
                                         rounds=1 if quick else 3, runs=2)
    ref = run64()
    error = float(np.abs(effective_receptive_field(net, centre, image) - ref).max() / ref.max())
    print(f"3. ERF of the trunk's centre neuron {centre}, 224 x 224 RGB")
    print(f"   rfmaps {ours:6.2f} s   torch autograd float64 {t64:6.2f} s   float32 {t32:6.2f} s")
    print(f"   ratio rfmaps / torch float64 {ours / t64:.2f}, / float32 {ours / t32:.2f}   goal <= 1.0   "
          f"(largest difference from float64, relative to the peak, {error:.1e})")


def explorer_rows(quick):
    import matplotlib

    matplotlib.use("Agg")
    from explorers import p95
    from rfmaps.widgets import ConvExplorer

    explorer = ConvExplorer("photo", kernel_size=5, kernels=4, blit=True)
    explorer.figure.canvas.draw()
    top = explorer.controls["kernels"].max
    values = list(range(1, top + 1, 8 if quick else 1))
    values = values + values[::-1]
    wall, cpu = [], []
    for value in values:
        start_cpu, start = time.thread_time(), time.perf_counter()
        explorer.set(kernels=value)
        wall.append(1e3 * (time.perf_counter() - start))
        cpu.append(1e3 * (time.thread_time() - start_cpu))
        assert explorer.message == "" or "shrink" in explorer.message, explorer.message
    print(f"4. ConvExplorer('photo', kernel_size=5): kernels 1 to {top} and back, {len(values)} changes")
    print(f"   change p95 {p95(wall):6.1f} ms (median {statistics.median(wall):5.1f})   CPU p95 {p95(cpu):6.1f} ms   "
          f"goal p95 <= 50 ms")


def main(quick=False):
    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(THREADS)
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores; "
          f"{THREADS} threads each; torch {torch.__version__}, numpy {np.__version__}")
    with threadpool_limits(limits=THREADS, user_api="blas"):
        engine_rows(quick)
        resnet_rows(quick)
    explorer_rows(quick)
    print(f"load average after: {os.getloadavg()[0]:.2f}")


if __name__ == "__main__":
    if "--threads" in sys.argv:
        THREADS = int(sys.argv[sys.argv.index("--threads") + 1])
    main(quick="--quick" in sys.argv)
