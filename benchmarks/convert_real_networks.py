"""Which torchvision and timm networks ``from_torch`` reads, each checked against torch.

Run: ``.venv/bin/python benchmarks/convert_real_networks.py [--size 224] [--only NAME ...]``
(needs torch, torchvision and timm; see tests/torchvision_import.py for the one import step).

For every network, its trunk (the part before global pooling) and the whole classifier are
converted with ``weights=None``. A converted one is compared with torch:

* output size and feature maps: ``feature_maps(layers, image)[-1]`` against the model's own
  float64 forward (relative error printed);
* receptive field: an autograd reference independent of rfmaps. A float64 copy of the model gets
  positive weights that average (each output channel's kernel sums to 1, no bias), batch
  normalisations that are the identity, and max pools computed as average pools; then every value
  stays in (0, 1], every activation has a positive slope there, and the input pixels with a nonzero
  gradient are exactly those with a path to the neuron. Their bounding box must equal
  ``input_region`` for the corner and centre neurons.

Prints one line per network: ``ok`` with field (``(global)`` when every neuron depends on the
whole image: after a global pooling or a squeeze-and-excitation gate), jump, map size and time to
convert, or the first sentence of the refusal, or ``MISMATCH`` and what differs.

``--speed`` times ``feature_maps`` of torchvision's converted resnet50 trunk at 224 x 224 (float32,
the final map) against the trunk's own torch forward, in turns (``interleaved_medians``), with
``--threads`` threads for both (default 1: steadier on a busy machine).
"""

from __future__ import annotations

import argparse
import copy
import sys
import time
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests"))
sys.path.insert(0, str(Path(__file__).resolve().parent))

import torch  # noqa: E402

from torchvision_import import import_timm, import_torchvision  # noqa: E402

import rfmaps  # noqa: E402

TORCHVISION = ["alexnet", "vgg16", "resnet18", "resnet50", "resnext50_32x4d", "wide_resnet50_2", "densenet121",
               "googlenet", "inception_v3", "mobilenet_v2", "mobilenet_v3_small", "mobilenet_v3_large",
               "mnasnet0_5", "efficientnet_b0", "efficientnet_v2_s", "regnet_x_400mf", "regnet_y_400mf",
               "shufflenet_v2_x0_5", "squeezenet1_0", "squeezenet1_1", "convnext_tiny"]
TIMM = ["resnet18", "resnet50d", "mobilenetv2_050", "vgg11", "densenet121", "efficientnet_b0", "mobilenetv3_large_100",
        "regnety_002", "convnext_atto", "inception_v3", "dla34"]

_HEADS = ("avgpool", "fc", "classifier", "dropout", "AuxLogits", "aux1", "aux2", "aux_logits")


def torchvision_models(name):
    tv = import_torchvision()
    options = {"weights": None}
    if name in ("googlenet", "inception_v3"):
        options.update(aux_logits=False, init_weights=False)
    model = getattr(tv.models, name)(**options).eval()
    if hasattr(model, "features"):
        trunk = model.features
    else:
        trunk = torch.nn.Sequential(*[m for n, m in model.named_children() if n not in _HEADS])
    return trunk.eval(), model


def timm_models(name):
    timm = import_timm()
    return (timm.create_model(name, pretrained=False, num_classes=0, global_pool="").eval(),
            timm.create_model(name, pretrained=False).eval())


def averaging_copy(model):
    """A float64 copy whose values stay in (0, 1] and whose every path carries a positive weight."""
    model = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None)
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear, torch.nn.ConvTranspose2d)):
                w = torch.rand_like(weight) + 0.5
                module.weight.copy_(w / w.flatten(1).sum(1).reshape((-1,) + (1,) * (w.ndim - 1)))
                if module.bias is not None:
                    module.bias.zero_()
            elif hasattr(module, "running_mean") and module.running_mean is not None:
                module.running_mean.zero_()
                module.running_var.fill_(1 - module.eps)
                if weight is not None:
                    module.weight.fill_(1)
                    module.bias.zero_()
            elif isinstance(weight, torch.Tensor):  # LayerNorm, layer scales: positive, no shift
                module.weight.fill_(1)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
            for name, parameter in module.named_parameters(recurse=False):
                if name == "gamma":  # timm's and torchvision's layer scale
                    parameter.fill_(1)
    return model


def autograd_box(model, size, position):
    """Bounding box of the input pixels whose gradient is nonzero, for the neuron at ``position``."""
    F = torch.nn.functional
    real_max_pool = F.max_pool2d

    def as_average(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        assert dilation in (1, (1, 1)) and not return_indices
        return F.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, True)

    # Tiny values: residual sums double them at most per block, and ReLU6 must never reach 6.
    x = (torch.rand((1, 3) + size, dtype=torch.float64, generator=torch.Generator().manual_seed(0)) + 1) * 1e-9
    x.requires_grad_(True)
    F.max_pool2d = as_average
    try:
        y = model(x)
    finally:
        F.max_pool2d = real_max_pool
    # Channels weighted unevenly: a LayerNorm's outputs sum to a constant, so an even sum would have no gradient.
    weights = torch.rand(y.shape[1], dtype=torch.float64, generator=torch.Generator().manual_seed(1)) + 0.5
    ((y[0] * weights).sum() if y.ndim == 2 else (y[0, :, position[0], position[1]] * weights).sum()).backward()
    hit = np.argwhere(x.grad[0].abs().sum(0).numpy() != 0)
    if not len(hit):
        return None
    return tuple((int(hit[:, a].min()), int(hit[:, a].max())) for a in (0, 1))


def check(model, size):
    start = time.perf_counter()
    layers = rfmaps.from_torch(model)
    seconds = time.perf_counter() - start
    rows = rfmaps.receptive_fields(layers, size)
    image = np.random.default_rng(0).random(size + (3,))
    with torch.no_grad():
        want = copy.deepcopy(model).double()(torch.tensor(np.moveaxis(image, -1, 0)[None]))[0].numpy()
    got = rfmaps.feature_maps(layers, image)[-1]
    want = want.reshape(got.shape) if want.size == got.size else want
    if got.shape != want.shape:
        return f"MISMATCH: maps {got.shape}, torch {want.shape}"
    error = float(np.abs(got - want).max() / max(np.abs(want).max(), 1e-30))
    reference = averaging_copy(model)
    h, w = rows[-1].output_size
    for position in {(0, 0), (h - 1, w - 1), (h // 2, w // 2)}:
        mine = rfmaps.input_region(layers, position, size)
        theirs = autograd_box(reference, size, position)
        if mine != theirs:
            return f"MISMATCH: field of {position}: rfmaps {mine}, autograd {theirs}"
    last = rows[-1]
    whole = " (global)" if last.whole_image else ""
    return (f"ok: rf {last.rf_size[0]}{whole}, jump {last.jump[0]}, map {last.output_size[0]}, maps rel. error "
            f"{error:.1e}, convert {seconds:.2f} s")


def speed(threads):
    """feature_maps of the converted resnet50 trunk against its torch forward, float32, 224 x 224."""
    from threadpoolctl import threadpool_limits

    from feature_maps import interleaved_medians

    torch.set_num_threads(threads)
    trunk = torchvision_models("resnet50")[0]
    layers = rfmaps.from_torch(trunk)
    image = np.random.default_rng(0).random((224, 224, 3)).astype(np.float32)
    x = torch.tensor(np.moveaxis(image, -1, 0)[None])

    def forward():
        with torch.no_grad():
            return trunk(x)

    with threadpool_limits(limits=threads, user_api="blas"):
        rfmaps.feature_maps(layers, image)  # weights and plan made once, as in a notebook's first call
        ours, theirs = interleaved_medians([lambda: rfmaps.feature_maps(layers, image), forward], rounds=5, runs=2)
        got, want = rfmaps.feature_maps(layers, image)[-1], forward()[0].numpy()
    print(f"resnet50 trunk, 224 x 224, float32, {threads} thread(s): feature_maps {ours * 1e3:.0f} ms, torch "
          f"forward {theirs * 1e3:.0f} ms, ratio {ours / theirs:.2f} (goal <= 2); largest difference "
          f"{float(np.abs(got - want).max() / np.abs(want).max()):.1e} of the largest value")


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    # 224: the size these networks are made for; VGG's and AlexNet's AdaptiveAvgPool2d is the identity there.
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--only", nargs="*")
    parser.add_argument("--speed", action="store_true")
    parser.add_argument("--threads", type=int, default=1)
    arguments = parser.parse_args()
    if arguments.speed:
        speed(arguments.threads)
        return
    size = (arguments.size, arguments.size)
    counts = {"trunk": [0, 0], "whole": [0, 0]}
    for source, names, build in (("torchvision", TORCHVISION, torchvision_models), ("timm", TIMM, timm_models)):
        for name in names:
            if arguments.only and name not in arguments.only and f"{source}.{name}" not in arguments.only:
                continue
            torch.manual_seed(0)
            trunk, whole = build(name)
            for part, model in (("trunk", trunk), ("whole", whole)):
                try:
                    result = check(model, size)
                except Exception as error:  # the refusal (or failure) is the measurement
                    result = f"refused: {type(error).__name__}: {str(error)[:300]}"
                counts[part][1] += 1
                counts[part][0] += result.startswith("ok")
                print(f"{source}.{name} {part}: {result}", flush=True)
    for part, (good, total) in counts.items():
        print(f"{part}: {good} of {total} convert and equal torch")


if __name__ == "__main__":
    main()
