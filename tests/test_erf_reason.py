"""ERFExplorer's readout names the path count as the reason for a concentrated field only when it is the
whole reason: every layer a convolution with one positive weight, no ReLU. Checked with torch autograd."""

import numpy as np
import pytest

from rfmaps import path_counts
from rfmaps.widgets import ERFExplorer
from rfmaps.widgets.erf import counts_paths_only, erf_stack

torch = pytest.importorskip("torch")


def _torch_gradient(layers, size):
    """|d (centre neuron, all channels) / d input| of the explorer's stack copied into torch, float64."""
    modules = []
    for layer in layers:
        if type(layer).__name__ == "ReLU":
            modules.append(torch.nn.ReLU())
            continue
        conv = torch.nn.Conv2d(layer.in_channels, layer.out_channels, layer.kernel_size, padding=layer.padding,
                               dilation=layer.dilation, bias=False).double()
        with torch.no_grad():
            conv.weight.copy_(torch.from_numpy(np.array(layer.weight, dtype=np.float64)))
        modules.append(conv)
    x = torch.from_numpy(np.random.default_rng(1).random((1, layers[0].in_channels, size, size))).requires_grad_(True)
    (grad,) = torch.autograd.grad(torch.nn.Sequential(*modules)(x)[0, :, size // 2, size // 2].sum(), x)
    return grad[0].abs().sum(0).numpy()


def _readout(explorer):
    return explorer._readout.value


@pytest.mark.parametrize("depth, kernel_size, dilation", [(2, 3, 1), (4, 3, 1), (3, 5, 2), (6, 3, 3)])
def test_with_equal_positive_weights_and_no_relu_the_gradient_is_the_path_count_and_the_readout_says_so(
        depth, kernel_size, dilation):
    layers = erf_stack(depth, kernel_size, dilation, 1, "uniform", False)
    assert counts_paths_only(layers)
    size = 2 * depth * dilation * (kernel_size - 1) + 5
    grad = _torch_gradient(layers, size)
    paths = np.asarray(path_counts(layers, (size // 2, size // 2), input_size=size), dtype=float)
    assert np.allclose(grad / grad.max(), paths / paths.max(), rtol=0, atol=1e-12)
    explorer = ERFExplorer(np.zeros((size, size)), depth=depth, kernel_size=kernel_size, dilation=dilation,
                           weights="uniform", relu=False, blit=False)
    try:
        words = _readout(explorer)
        assert "only because it reaches the neuron through many more paths" in words or "as large as the field" in words
    finally:
        explorer.close()


@pytest.mark.parametrize("weights, relu", [("random", False), ("random", True), ("uniform", True)])
def test_otherwise_the_readout_names_weights_and_open_paths_not_the_count_alone(weights, relu):
    depth, kernel_size, size = 4, 3, 25
    layers = erf_stack(depth, kernel_size, 1, 1, weights, relu)
    assert not counts_paths_only(layers)
    grad = _torch_gradient(layers, size)
    paths = np.asarray(path_counts(layers, (size // 2, size // 2), input_size=size), dtype=float)
    if weights == "random":   # the weights count: the gradient does not have the path count's shape
        assert np.abs(grad / grad.max() - paths / paths.max()).max() > 0.05
    explorer = ERFExplorer(np.random.default_rng(1).random((size, size)), depth=depth, kernel_size=kernel_size,
                           weights=weights, relu=relu, blit=False)
    try:
        words = _readout(explorer)
        assert "through many more paths" not in words and "products of the weights and of the other layers' slopes" in words, words
    finally:
        explorer.close()
