"""Independent brute-force references, written with explicit loops.

They share no code with rfmaps: they read only a layer's public attributes
(kernel_size, stride, dilation and the padding it declares, ``pads``, with
``ceil_mode`` walked here by PyTorch's rule) and walk over every neuron and
every tap one at a time. :func:`torch_layer` is the other oracle: the same
layer computed by PyTorch.
"""

import contextlib

import numpy as np


def window_origins(n, kernel, stride, dilation, before, after, ceil_mode=False):
    """Positions (in unpadded input coordinates) where a window starts, by walking.

    A window that fits in the padded input counts. With ``ceil_mode`` (PyTorch's
    pools) so does one more whose window hangs over the end, while the window
    before it has not reached the last padded pixel and it starts inside the
    input or the padding before it.
    """
    origins = []
    origin = -before
    span = dilation * (kernel - 1) + 1
    while (origin + span - 1 <= n - 1 + after
           or ceil_mode and origin < n and origin - stride + span - 1 < n - 1 + after):
        origins.append(origin)
        origin += stride
    return origins


def output_size(layer, size):
    kind = type(layer).__name__
    if kind == "ConvTranspose2d":  # count the outputs the last input pixel's last tap reaches, plus extra
        return tuple((size[a] - 1) * layer.stride[a] + layer.dilation[a] * (layer.kernel_size[a] - 1) + 1
                     - 2 * layer.padding[a] + layer.output_padding[a] for a in (0, 1))
    if kind == "Upsample":
        return tuple(n * f for n, f in zip(size, layer.scale_factor))
    if kind == "Residual":
        sizes = {input_sizes(path, size)[-1] for path in layer.paths}
        assert len(sizes) == 1, "paths of different sizes"
        return sizes.pop()
    return tuple(
        len(window_origins(size[a], layer.kernel_size[a], layer.stride[a], layer.dilation[a],
                           *layer.pads[a], getattr(layer, "ceil_mode", False)))
        for a in (0, 1))


def input_sizes(layers, size):
    sizes = [tuple(size)]
    for layer in layers:
        sizes.append(output_size(layer, sizes[-1]))
    return sizes


def backward_paths(layers, position, size, bounded=True):
    """Dict {input pixel: number of paths} from one neuron of the last layer.

    With ``bounded=False`` pixels in the padding are kept too (negative or too
    large coordinates): that shows the whole receptive field before clipping.
    """
    counts = {tuple(position): 1}
    return walk_back(layers, counts, size, bounded)


def walk_back(layers, counts, size, bounded):
    """Carry {output pixel: paths} back through ``layers`` to their input of ``size``."""
    sizes = input_sizes(layers, size)
    for layer, n in zip(reversed(layers), reversed(sizes[:-1])):
        if type(layer).__name__ == "Residual":
            total = {}
            for path in layer.paths:  # an empty path (identity) returns counts unchanged
                for pixel, c in walk_back(list(path), counts, n, bounded).items():
                    total[pixel] = total.get(pixel, 0) + c
            counts = total
            continue
        previous = {}
        kind = type(layer).__name__
        if not counts:
            return counts
        if kind in ("ConvTranspose2d", "Upsample"):
            # Forward enumeration: every input pixel that could reach a counted output (a range
            # wide enough for any tap, outside the image too when unbounded) and every tap,
            # kept when it lands on a counted output pixel.
            spans = []
            for a in (0, 1):
                low, high = min(p[a] for p in counts), max(p[a] for p in counts)
                if kind == "Upsample":
                    first, last = low // layer.scale_factor[a] - 1, high // layer.scale_factor[a] + 1
                else:
                    reach = layer.padding[a] + layer.dilation[a] * layer.kernel_size[a]
                    first, last = (low - reach) // layer.stride[a] - 1, (high + reach) // layer.stride[a] + 1
                if bounded:
                    first, last = max(first, 0), min(last, n[a] - 1)
                spans.append(range(first, last + 1))
            for i in spans[0]:
                for j in spans[1]:
                    for target in forward_targets(layer, (i, j)):
                        if target in counts:
                            previous[(i, j)] = previous.get((i, j), 0) + counts[target]
            counts = previous
            continue
        for (r, c), count in counts.items():
            for a in range(layer.kernel_size[0]):
                for b in range(layer.kernel_size[1]):
                    i = r * layer.stride[0] - layer.pads[0][0] + a * layer.dilation[0]
                    j = c * layer.stride[1] - layer.pads[1][0] + b * layer.dilation[1]
                    if bounded and not (0 <= i < n[0] and 0 <= j < n[1]):
                        continue  # this tap reads zero padding
                    previous[(i, j)] = previous.get((i, j), 0) + count
        counts = previous
    return counts


def forward_targets(layer, pixel):
    """Output pixels an input pixel is sent to, once per tap (transposed convolution, upsampling)."""
    if type(layer).__name__ == "Upsample":
        fh, fw = layer.scale_factor
        return [(pixel[0] * fh + u, pixel[1] * fw + v) for u in range(fh) for v in range(fw)]
    return [(layer.stride[0] * pixel[0] - layer.padding[0] + layer.dilation[0] * a,
             layer.stride[1] * pixel[1] - layer.padding[1] + layer.dilation[1] * b)
            for a in range(layer.kernel_size[0]) for b in range(layer.kernel_size[1])]


def forward_ones(layers, image):
    """Linear network with all-ones kernels (pooling as sum), by explicit loops."""
    x = [list(map(float, row)) for row in image]
    for layer in layers:
        h, w = len(x), len(x[0])
        rows = window_origins(h, layer.kernel_size[0], layer.stride[0], layer.dilation[0], *layer.pads[0])
        cols = window_origins(w, layer.kernel_size[1], layer.stride[1], layer.dilation[1], *layer.pads[1])
        out = []
        for r0 in rows:
            out_row = []
            for c0 in cols:
                total = 0.0
                for a in range(layer.kernel_size[0]):
                    for b in range(layer.kernel_size[1]):
                        i, j = r0 + a * layer.dilation[0], c0 + b * layer.dilation[1]
                        if 0 <= i < h and 0 <= j < w:
                            total += x[i][j]
                out_row.append(total)
            out.append(out_row)
        x = out
    return np.array(x)


def impulse_counts(layers, position, size):
    """Path counts read off a numerical gradient: one impulse per input pixel."""
    counts = np.zeros(size, dtype=np.int64)
    for i in range(size[0]):
        for j in range(size[1]):
            image = np.zeros(size)
            image[i, j] = 1.0
            counts[i, j] = int(forward_ones(layers, image)[tuple(position)])
    return counts


def layer_loops(layer, x, weight=None, bias=None):
    """One layer on x (C, H, W) with explicit loops over every neuron and tap.

    Conv: cross-correlation with zero padding; max pool: padding never wins;
    avg pool: padding counts as zero, divide by the kernel area; ReLU.
    """
    kind = type(layer).__name__
    if kind == "ReLU":
        return np.maximum(x, 0)
    if kind in ("ConvTranspose2d", "Upsample"):
        C, H, W = x.shape
        oh, ow = output_size(layer, (H, W))
        channels = C if kind == "Upsample" else layer.out_channels
        out = np.zeros((channels, oh, ow))
        for ci in range(C):
            for i in range(H):
                for j in range(W):
                    for (r, c) in forward_targets(layer, (i, j)):
                        if not (0 <= r < oh and 0 <= c < ow):
                            continue
                        if kind == "Upsample":
                            out[ci, r, c] = x[ci, i, j]
                            continue
                        a = (r + layer.padding[0] - layer.stride[0] * i) // layer.dilation[0]
                        b = (c + layer.padding[1] - layer.stride[1] * j) // layer.dilation[1]
                        per_in, per_out = weight.shape[0] // layer.groups, weight.shape[1]
                        g = ci // per_in
                        for co in range(per_out):
                            out[g * per_out + co, r, c] += weight[ci, co, a, b] * x[ci, i, j]
        if kind == "ConvTranspose2d" and bias is not None:
            out += np.asarray(bias)[:, None, None]
        return out
    if kind == "Residual":
        return sum(forward_loops(list(path), x) for path in layer.paths)
    C, H, W = x.shape
    rows = window_origins(H, layer.kernel_size[0], layer.stride[0], layer.dilation[0], *layer.pads[0])
    cols = window_origins(W, layer.kernel_size[1], layer.stride[1], layer.dilation[1], *layer.pads[1])
    out_channels = weight.shape[0] if kind == "Conv2d" else C
    out = np.zeros((out_channels, len(rows), len(cols)))
    for o in range(out_channels):
        for r, r0 in enumerate(rows):
            for c, c0 in enumerate(cols):
                values = []
                total = 0.0
                for a in range(layer.kernel_size[0]):
                    for b in range(layer.kernel_size[1]):
                        i, j = r0 + a * layer.dilation[0], c0 + b * layer.dilation[1]
                        inside = 0 <= i < H and 0 <= j < W
                        if kind == "Conv2d":
                            # groups: output o reads only the input channels of its group
                            per_in = weight.shape[1]
                            group = o // (out_channels // getattr(layer, "groups", 1))
                            for ch in range(group * per_in, (group + 1) * per_in):
                                if inside:
                                    total += weight[o, ch - group * per_in, a, b] * x[ch, i, j]
                        elif inside:
                            values.append(x[o, i, j])
                        elif kind == "AvgPool2d":
                            values.append(0.0)
                if kind == "Conv2d":
                    out[o, r, c] = total + (0.0 if bias is None else bias[o])
                elif kind == "MaxPool2d":
                    out[o, r, c] = max(values)
                else:
                    out[o, r, c] = sum(values) / (layer.kernel_size[0] * layer.kernel_size[1])
    return out


def forward_loops(layers, x):
    """All layers by explicit loops; every Conv2d must carry its weight."""
    for layer in layers:
        x = layer_loops(layer, x, getattr(layer, "weight", None), getattr(layer, "bias", None))
    return x


def torch_layer(layer, weight, ones=False, dtype=None):
    """A function of a (1, C, H, W) tensor that computes ``layer`` with torch, in ``dtype`` (float64 by default).

    ``weight`` is the layer's kernel (its own or the default bank's:
    ``rfmaps.engine.kernels.layer_weights``). With ``ones=True`` the network
    is the linear all-ones network whose gradient counts paths: every window
    sums its taps, ReLU is the identity. The torch oracle of tests/test_torch.py
    and of benchmarks/speed_table.py: one translation, so both compare rfmaps
    with the same torch calls.
    """
    import torch

    F = torch.nn.functional
    dtype = torch.float64 if dtype is None else dtype
    kind = type(layer).__name__
    if kind == "Residual":
        paths = [[torch_layer(l, w, ones, dtype) for l, w in zip(path, weights)]
                 for path, weights in zip(layer.paths, weight)]

        def run(x):
            total = 0
            for path in paths:
                y = x
                for f in path:
                    y = f(y)
                total = total + y
            return total
        return run
    if kind == "Upsample":
        return lambda x: F.interpolate(x, size=tuple(n * f for n, f in zip(x.shape[2:], layer.scale_factor)),
                                       mode="nearest")
    if kind == "ConvTranspose2d":
        def up(x):
            if ones:
                c = x.shape[1]
                k = torch.ones((c, 1) + tuple(layer.kernel_size), dtype=dtype)
                return F.conv_transpose2d(x, k, None, layer.stride, layer.padding, layer.output_padding, c,
                                          layer.dilation)
            w = torch.tensor(np.asarray(weight), dtype=dtype)
            b = None if layer.bias is None else torch.tensor(layer.bias, dtype=dtype)
            return F.conv_transpose2d(x, w, b, layer.stride, layer.padding, layer.output_padding, layer.groups,
                                      layer.dilation)
        return up
    if kind == "ZeroPad2d":
        return lambda x: F.pad(x, layer.padding)
    if kind == "ReLU":
        return (lambda x: x) if ones else F.relu
    padding = layer.padding
    if ones or kind == "Conv2d":
        groups = getattr(layer, "groups", 1)
        if not ones:
            w = torch.tensor(np.asarray(weight), dtype=dtype)
            b = None if layer.bias is None else torch.tensor(layer.bias, dtype=dtype)

        def conv(x):
            if ones:
                c = x.shape[1]
                k = torch.ones((c, 1) + tuple(layer.kernel_size), dtype=dtype)
                return F.conv2d(x, k, None, layer.stride, padding, layer.dilation, c)
            return F.conv2d(x, w, b, layer.stride, padding, layer.dilation, groups)
        return conv
    if kind == "MaxPool2d":
        return lambda x: F.max_pool2d(x, layer.kernel_size, layer.stride, layer.padding, layer.dilation,
                                      layer.ceil_mode)
    if kind == "AvgPool2d":
        return lambda x: F.avg_pool2d(x, layer.kernel_size, layer.stride, layer.padding, layer.ceil_mode,
                                      layer.count_include_pad, layer.divisor_override)
    raise AssertionError(f"no torch translation for {kind}")


def averaging_copy(model):
    """A float64 copy of a torch ``model`` whose gradients mark exactly its field: positive weights that sum to
    1 per output, no biases, batch and layer norms (and layer scales) as identities. Pair it with max pools
    replaced by average pools (:func:`max_pools_as_averages`): then the input pixels with a nonzero gradient are
    the neuron's field."""
    import copy

    import torch

    model = copy.deepcopy(model).double().eval()
    with torch.no_grad():
        for module in model.modules():
            weight = getattr(module, "weight", None)
            if isinstance(module, (torch.nn.Conv2d, torch.nn.Linear)):
                w = torch.rand_like(module.weight) + 0.5
                module.weight.copy_(w / w.flatten(1).sum(1).reshape((-1,) + (1,) * (w.ndim - 1)))
                if module.bias is not None:
                    module.bias.zero_()
            elif getattr(module, "running_mean", None) is not None:
                module.running_mean.zero_()
                module.running_var.fill_(1 - module.eps)
                if module.weight is not None:
                    module.weight.fill_(1)
                    module.bias.zero_()
            elif isinstance(weight, torch.Tensor):  # LayerNorm: positive, no shift
                weight.fill_(1)
                if getattr(module, "bias", None) is not None:
                    module.bias.zero_()
            for name, parameter in module.named_parameters(recurse=False):
                if name in ("gamma", "layer_scale"):  # layer scales (timm's, torchvision's ConvNeXt)
                    parameter.fill_(1)
    return model


@contextlib.contextmanager
def max_pools_as_averages():
    """While inside, ``F.max_pool2d`` (so every ``nn.MaxPool2d``) averages the same windows, padding counted as
    zero.

    A max pool's gradient reaches one pixel of each window; an average's reaches all of them, so with
    :func:`averaging_copy` the input pixels with a nonzero gradient are exactly the field. Dilated windows and
    ``return_indices`` have no average of the same taps here: they fail rather than give another field.
    """
    import torch

    F = torch.nn.functional
    real = F.max_pool2d

    def as_average(x, kernel_size, stride=None, padding=0, dilation=1, ceil_mode=False, return_indices=False):
        assert dilation in (1, (1, 1), [1, 1]) and not return_indices, (dilation, return_indices)
        return F.avg_pool2d(x, kernel_size, stride, padding, ceil_mode, True)

    F.max_pool2d = as_average
    try:
        yield
    finally:
        F.max_pool2d = real


def positive_twin(layers, seed=0):
    """A torch function of a (1, C, H, W) float64 tensor computing ``layers`` with positive weights
    (0.5 to 1.5) and no bias: its nonzero gradient (autograd) or forward derivative (jvp) marks exactly
    the pixels or neurons joined by a path, holes included (no cancellation, no dead activation).

    Max pools become average pools (every tap has a path), a squeeze-and-excitation gate is
    ``x * sigmoid(conv1x1(mean of x))``, a Residual the sum of its body and shortcut; Flatten is
    skipped (the maps stay 4-D). Shared by tests/test_huge_whole_image.py and test_huge_upsampling.py.
    """
    import torch
    import torch.nn.functional as F

    from rfmaps import (AvgPool2d, Conv2d, ConvTranspose2d, Flatten, GlobalAvgPool2d, MaxPool2d, Residual,
                        SqueezeExcitation, Upsample)

    generator = torch.Generator().manual_seed(seed)

    def weight(shape):
        return torch.rand(shape, dtype=torch.float64, generator=generator) + 0.5

    def steps_of(stack):
        steps = []
        for layer in stack:
            if isinstance(layer, Conv2d):
                w = weight((layer.out_channels, layer.in_channels) + tuple(layer.kernel_size))
                steps.append(lambda x, l=layer, w=w: F.conv2d(x, w, None, l.stride, l.padding, l.dilation))
            elif isinstance(layer, ConvTranspose2d):
                w = weight((layer.in_channels, layer.out_channels) + tuple(layer.kernel_size))
                steps.append(lambda x, l=layer, w=w: F.conv_transpose2d(x, w, None, l.stride, l.padding,
                                                                         l.output_padding, 1, l.dilation))
            elif isinstance(layer, Upsample):
                steps.append(lambda x, l=layer: F.interpolate(x, scale_factor=l.scale_factor, mode="nearest"))
            elif isinstance(layer, (AvgPool2d, MaxPool2d)):
                steps.append(lambda x, l=layer: F.avg_pool2d(x, l.kernel_size, l.stride, l.padding))
            elif isinstance(layer, GlobalAvgPool2d):
                steps.append(lambda x: x.mean((2, 3), keepdim=True))
            elif isinstance(layer, SqueezeExcitation):
                w = weight((layer.channels, layer.channels, 1, 1))
                steps.append(lambda x, w=w: x * torch.sigmoid(F.conv2d(x.mean((2, 3), keepdim=True), w)))
            elif isinstance(layer, Residual):
                body = run_of(steps_of(layer.body))
                shortcut = run_of(steps_of(layer.shortcut)) if layer.shortcut else (lambda x: x)
                steps.append(lambda x, b=body, s=shortcut: b(x) + s(x))
            elif isinstance(layer, Flatten):
                continue
            else:
                raise AssertionError(f"no twin for {layer!r}")
        return steps

    def run_of(steps):
        def run(x):
            for step in steps:
                x = step(x)
            return x
        return run

    return run_of(steps_of(layers))
