"""Cost that follows the question, not the size of the maps.

Each hostile case runs in a subprocess with an address-space limit (RLIMIT_AS) and a generous
timeout: before the fix these hung or allocated gigabytes. Its answer is then checked against
PyTorch (an all-ones network's autograd, or an impulse through torch's layers) on a small case of
the same shape, which the big answer must repeat (fields and path counts are translation
invariant up to the phase, which the small cases keep).
"""

import json
import resource
import subprocess
import sys
import textwrap

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, given, settings, strategies as st

from rfmaps import (Conv2d, ConvTranspose2d, MaxPool2d, Residual, Upsample, feature_maps, forward_path_counts,
                    input_region, path_counts, projective_field, receptive_fields)
from reference import backward_paths

torch = pytest.importorskip("torch")
F = torch.nn.functional

GIB = 2 ** 30


# The child's own peak resident memory in KiB. Not getrusage's ru_maxrss: Linux keeps that across
# fork and exec, so a child of a test worker that once held 1.4 GB reports 1.4 GB whatever it does
# (seen in CI). VmHWM belongs to the address space exec made new.
PEAK = ("def peak_kib():\n"
        "    with open('/proc/self/status') as status:\n"
        "        return next(int(line.split()[1]) for line in status if line.startswith('VmHWM:'))\n")


def run_limited(code: str, memory: int = 2 * GIB, timeout: float = 60):
    """Run ``code`` (which prints one JSON value) in a fresh interpreter with at most ``memory``
    bytes of address space; return the value, or the error's text."""
    def limit():
        resource.setrlimit(resource.RLIMIT_AS, (memory, memory))

    program = "import json, resource\nimport numpy as np\nfrom rfmaps import *\n" + PEAK + textwrap.dedent(code)
    result = subprocess.run([sys.executable, "-c", program], capture_output=True, text=True, timeout=timeout,
                            preexec_fn=limit)
    assert result.returncode == 0, result.stderr[-2000:]
    return json.loads(result.stdout.strip().splitlines()[-1])


def ones_network(layers):
    """A torch function of (1, 1, H, W) float64: the layers with all-ones kernels, no bias (counts paths)."""
    def run(x):
        for layer in layers:
            if isinstance(layer, Upsample):
                x = F.interpolate(x, scale_factor=layer.scale_factor, mode="nearest")
            elif isinstance(layer, ConvTranspose2d):
                k = torch.ones((1, 1) + layer.kernel_size, dtype=torch.float64)
                x = F.conv_transpose2d(x, k, None, layer.stride, layer.padding, layer.output_padding, 1,
                                       layer.dilation)
            elif isinstance(layer, Residual):
                x = ones_network(layer.body)(x) + ones_network(layer.shortcut)(x)
            else:
                k = torch.ones((1, 1) + layer.kernel_size, dtype=torch.float64)
                x = F.conv2d(x, k, None, layer.stride, layer.padding, layer.dilation)
        return x
    return run


def torch_backward_counts(layers, position, size):
    """Paths from each input pixel to one neuron: the gradient of the all-ones network."""
    x = torch.zeros((1, 1) + tuple(size), dtype=torch.float64, requires_grad=True)
    ones_network(layers)(x)[0, 0, position[0], position[1]].backward()
    return x.grad[0, 0].numpy()


def torch_forward_counts(layers, pixel, size):
    """Paths from one input pixel to each neuron: an impulse through the all-ones network (linear)."""
    x = torch.zeros((1, 1) + tuple(size), dtype=torch.float64)
    x[0, 0, pixel[0], pixel[1]] = 1
    return ones_network(layers)(x)[0, 0].numpy()


def nonzero_box(array):
    found = np.argwhere(array != 0)
    return tuple((int(found[:, a].min()), int(found[:, a].max())) for a in (0, 1))


def field_widths(layers, size):
    """The largest field of the last layer and neuron 0's centre, by brute force over every neuron."""
    out = receptive_fields(layers, size)[-1].output_size
    widths, centre = [0, 0], None
    for r in range(out[0]):
        for c in range(out[1]):
            pixels = backward_paths(layers, (r, c), size, bounded=False)
            if not pixels:
                continue
            box = [(min(p[a] for p in pixels), max(p[a] for p in pixels)) for a in (0, 1)]
            widths = [max(w, h - l + 1) for w, (l, h) in zip(widths, box)]
            if (r, c) == (0, 0):
                centre = [(l + h) / 2 for l, h in box]
    return widths, centre


# -- the arithmetic of a stack: a few steps per layer --------------------------------------------

def test_a_transposed_stride_of_a_million_costs_what_a_small_one_does():
    big = run_limited("""
        row = receptive_fields([ConvTranspose2d(1, 1, 3, stride=10**6)], 8)[-1]
        region = input_region([ConvTranspose2d(1, 1, 3, stride=10**6)], (3 * 10**6 + 2, 5), 8, clip=False)
        print(json.dumps([row.output_size, row.rf_size, [float(s) for s in row.start], region]))
    """)
    assert big[0] == [7 * 10**6 + 3] * 2
    # Kernel 3 < stride: every neuron reads at most one pixel, as with stride 7 (brute force).
    widths, centre = field_widths([ConvTranspose2d(1, 1, 3, stride=7)], (3, 3))
    assert big[1] == widths == [1, 1] and big[2] == centre == [0, 0]
    # Row 3 s + 2 reads input 3 through tap 2 (s i + t = o); column 5 has no tap t <= 2 with s | 5 - t.
    assert big[3] is None
    assert input_region([ConvTranspose2d(1, 1, 3, stride=7)], (3 * 7 + 2, 0), 8, clip=False) == ((3, 3), (0, 0))


def test_an_upsampling_by_a_billion_is_answered_at_once():
    big = run_limited("""
        rows = receptive_fields([Upsample(10**9)], 8)
        region = input_region([Upsample(10**9), Conv2d(1, 1, 3)], (10**9 - 1, 7 * 10**9), 8)
        print(json.dumps([rows[-1].output_size, rows[-1].rf_size, [float(s) for s in rows[-1].start], region]))
    """)
    assert big[0] == [8 * 10**9] * 2 and big[1] == [1, 1] and big[2] == [0, 0]
    # The last neuron of block 0 (rows) sees pixels 0 and 1; block 7 (columns) sees pixel 7 only.
    assert big[3] == [[0, 1], [7, 7]]
    small = torch_backward_counts([Upsample(5), Conv2d(1, 1, 3)], (4, 35), (8, 8))
    assert nonzero_box(small) == ((0, 1), (7, 7))


def test_an_upsampling_by_ten_thousand_on_64_stays_small():
    big = run_limited("""
        rows = receptive_fields([Upsample(10**4), Conv2d(1, 1, 3)], 64)
        print(json.dumps([rows[-1].rf_size, [float(s) for s in rows[-1].start]]))
    """, memory=GIB)
    widths, centre = field_widths([Upsample(7), Conv2d(1, 1, 3)], (3, 3))
    assert big == [widths, centre] == [[2, 2], [0, 0]]


def test_a_period_beyond_the_limit_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match=r"repeat only every 1000000000 neurons.*16384"):
        receptive_fields([Upsample(10**9), Conv2d(1, 1, 3)], 8)


def test_projective_field_of_an_upsampling_by_a_hundred_thousand():
    big = run_limited("print(json.dumps(projective_field([Upsample(10**5)], (3, 3), 64)))")
    assert big == [[3 * 10**5, 4 * 10**5 - 1]] * 2
    small = torch_forward_counts([Upsample(5)], (3, 3), (64, 64))
    assert nonzero_box(small) == ((15, 19), (15, 19))
    # By a billion: the runs give the copies of pixel 3 at once, rows and columns 3e9 to 4e9 - 1.
    huge = run_limited("print(json.dumps(projective_field([Upsample(10**9)], (3, 3), 8)))")
    assert huge == [[3 * 10**9, 4 * 10**9 - 1]] * 2


# -- path counts: the crop (or the axes) they need -----------------------------------------------

def test_path_counts_through_a_transposed_convolution_on_20000_squared():
    layers = "[Conv2d(1, 1, 3, padding=1), ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)]"
    big = run_limited(f"""
        counts = path_counts({layers}, (20001, 30001), 20000)
        (t, b), (l, r) = box = [[int(v.min()), int(v.max())] for v in np.nonzero(counts)]
        used = peak_kib()
        print(json.dumps([box, counts[t:b + 1, l:r + 1].tolist(), used]))
    """, memory=5 * GIB)
    # The output is 20000 x 20000 int64 (3.2 GB of address space, untouched); the work fits the field.
    assert big[2] < 600 * 1024  # kB
    small = torch_backward_counts([Conv2d(1, 1, 3, padding=1),
                                   ConvTranspose2d(1, 1, 3, stride=2, padding=1, output_padding=1)], (21, 31), (40, 40))
    (t, b), (l, r) = nonzero_box(small)
    shift = (20001 - 21) // 2, (30001 - 31) // 2  # input pixels; the output moves twice as far
    assert big[0] == [[t + shift[0], b + shift[0]], [l + shift[1], r + shift[1]]]
    np.testing.assert_array_equal(np.array(big[1]), small[t:b + 1, l:r + 1])


def test_forward_path_counts_of_three_convolutions_on_20000_squared():
    big = run_limited("""
        counts = forward_path_counts([Conv2d(1, 1, 3)] * 3, (10000, 10000), 20000)
        (t, b), (l, r) = box = [[int(v.min()), int(v.max())] for v in np.nonzero(counts)]
        used = peak_kib()
        print(json.dumps([box, counts[t:b + 1, l:r + 1].tolist(), used]))
    """, memory=5 * GIB)
    assert big[2] < 600 * 1024
    small = torch_forward_counts([Conv2d(1, 1, 3)] * 3, (10, 10), (20, 20))
    (t, b), (l, r) = nonzero_box(small)
    assert big[0] == [[t + 9990, b + 9990], [l + 9990, r + 9990]]
    np.testing.assert_array_equal(np.array(big[1]), small[t:b + 1, l:r + 1])


def test_forward_path_counts_through_residual_blocks_on_20000_squared():
    block = "Residual([Conv2d(1, 1, 3, padding=1), Conv2d(1, 1, 3, stride=2, padding=1)], [Conv2d(1, 1, 1, stride=2)])"
    big = run_limited(f"""
        counts = forward_path_counts([Conv2d(1, 1, 3, padding=1), {block}, {block}], (10001, 9998), 20000)
        (t, b), (l, r) = box = [[int(v.min()), int(v.max())] for v in np.nonzero(counts)]
        used = peak_kib()
        print(json.dumps([box, counts[t:b + 1, l:r + 1].tolist(), used]))
    """, memory=3 * GIB)
    assert big[2] < 600 * 1024
    make = lambda: Residual([Conv2d(1, 1, 3, padding=1), Conv2d(1, 1, 3, stride=2, padding=1)],
                            [Conv2d(1, 1, 1, stride=2)])
    small = torch_forward_counts([Conv2d(1, 1, 3, padding=1), make(), make()], (41, 38), (80, 80))
    (t, b), (l, r) = nonzero_box(small)
    shift = (10001 - 41) // 4, (9998 - 38) // 4  # both multiples of the jump, 4
    assert big[0] == [[t + shift[0], b + shift[0]], [l + shift[1], r + shift[1]]]
    np.testing.assert_array_equal(np.array(big[1]), small[t:b + 1, l:r + 1])


def test_a_box_of_counts_beyond_the_limit_is_refused():
    with pytest.raises(ValueError, match=r"box of 20000 x 20000 cells, more than the 100000000"):
        forward_path_counts([Upsample(20000)], (0, 0), 1)
    words = run_limited("""
        try:
            forward_path_counts([Upsample(10**4)], (1, 1), 64)
        except ValueError as error:
            print(json.dumps(str(error)))
    """, memory=GIB)
    assert "640000 x 640000 map, more than the 1000000000 cells" in words


# -- the fast paths agree with torch on every small stack ----------------------------------------

@st.composite
def stack(draw):
    layers = []
    for _ in range(draw(st.integers(1, 3))):
        kind = draw(st.sampled_from(["conv", "up", "upsample", "pool", "residual"]))
        k, s, d = draw(st.integers(1, 4)), draw(st.integers(1, 3)), draw(st.integers(1, 3))
        p = draw(st.integers(0, 2))
        if kind == "conv":
            layers.append(Conv2d(1, 1, k, s, p, d))
        elif kind == "up":
            layers.append(ConvTranspose2d(1, 1, k, s, p, draw(st.integers(0, max(s, d) - 1)), 1, d))
        elif kind == "upsample":
            layers.append(Upsample(draw(st.integers(1, 3))))
        elif kind == "pool":
            layers.append(MaxPool2d(k, s, min(p, k // 2)))
        else:
            layers.append(Residual([Conv2d(1, 1, 3, padding=1), Conv2d(1, 1, 3, s, padding=1)],
                                   [Conv2d(1, 1, 1, s)]))
    return layers


@settings(max_examples=80, deadline=None, suppress_health_check=[HealthCheck.filter_too_much, HealthCheck.too_slow])
@given(stack(), st.integers(4, 24), st.data())
def test_path_counts_both_ways_equal_the_all_ones_network(layers, n, data):
    try:
        out = receptive_fields(layers, n)[-1].output_size
    except ValueError:
        assume(False)
    position = (data.draw(st.integers(0, out[0] - 1)), data.draw(st.integers(0, out[1] - 1)))
    pixel = (data.draw(st.integers(0, n - 1)), data.draw(st.integers(0, n - 1)))
    np.testing.assert_array_equal(path_counts(layers, position, n), torch_backward_counts(layers, position, (n, n)))
    np.testing.assert_array_equal(forward_path_counts(layers, pixel, n), torch_forward_counts(layers, pixel, (n, n)))


def test_feature_maps_refuse_a_run_larger_than_the_limit_with_a_sentence():
    words = run_limited("""
        try:
            feature_maps([Upsample(10**4)], np.ones((64, 64)))
            print(json.dumps("no error"))
        except ValueError as error:
            print(json.dumps(str(error)))
    """, memory=GIB)
    assert "more than the 1 GiB one run may use" in words and "layer 0's (Upsample(scale_factor=10000)" in words
    # Below the limit the same layer runs, as torch's nearest upsampling.
    image = np.random.default_rng(0).random((6, 5))
    got = feature_maps([Upsample(3)], image)[0][0]
    expected = F.interpolate(torch.tensor(image)[None, None], scale_factor=3, mode="nearest")[0, 0].numpy()
    np.testing.assert_array_equal(got, expected.astype(np.float32))
