"""The shipped trained network: read with numpy, equal to what its training script makes and to torch."""

import importlib.util
import pathlib
import subprocess
import sys

import numpy as np
import pytest

from rfmaps import feature_maps, from_torch, receptive_fields, trained

ROOT = pathlib.Path(__file__).resolve().parent.parent
SCRIPT = ROOT / "tools" / "train_small_cnn.py"


def test_shipped_weights_are_a_few_kilobytes_and_both_networks_differ():
    assert (ROOT / "rfmaps" / "models" / "data" / "small_cnn.npz").stat().st_size < 20_000
    before, after = trained.small_cnn(trained=False), trained.small_cnn()
    assert [type(l) for l in before] == [type(l) for l in after]
    assert not np.array_equal(before[0].weight, after[0].weight)
    geometry = lambda layers: [(r.output_size, r.rf_size, r.jump, r.start) for r in receptive_fields(layers, 32)]  # noqa
    assert geometry(before) == geometry(after)  # training never moves the theoretical field
    assert trained.accuracy() > 0.9


def test_arguments_are_checked():
    with pytest.raises(TypeError, match="trained"):
        trained.small_cnn(trained="yes")
    with pytest.raises(ValueError, match="kind must be one of"):
        trained.training_image("circle")


def _script():
    spec = importlib.util.spec_from_file_location("train_small_cnn", SCRIPT)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def test_the_shipped_layers_compute_what_the_torch_network_of_the_script_computes():
    torch = pytest.importorskip("torch")
    script = _script()
    model = script.network()
    weights = np.load(ROOT / "rfmaps" / "models" / "data" / "small_cnn.npz")
    model.load_state_dict({name.removeprefix("trained/"): torch.tensor(weights[name])
                           for name in weights.files if name.startswith("trained/")})
    assert from_torch(model[0]) == trained.small_cnn()
    image = trained.training_image("stripes")
    with torch.no_grad():
        expected = model[0].eval()(torch.tensor(image[None, None], dtype=torch.float32))[0].numpy()
    # float32 on both sides, summed in different orders (BLAS, oneDNN): the absolute part scales with the
    # largest output, as in the other torch comparisons.
    np.testing.assert_allclose(feature_maps(trained.small_cnn(), image)[-1], expected, rtol=1e-4,
                               atol=1e-5 * max(1.0, np.abs(expected).max()))


def test_the_training_script_gives_the_shipped_weights_again_and_a_changed_script_does_not():
    # Holds on any x86-64 CPU: data and initial weights are drawn with numpy and training runs in float64
    # (tools/train_small_cnn.py says why and what was measured). The changed run (one epoch more, the
    # smallest change tried) shows the tolerance still catches a real change; both run at once.
    pytest.importorskip("torch")
    runs = {name: subprocess.Popen([sys.executable, str(SCRIPT), "--check", *extra], stdout=subprocess.PIPE,
                                   stderr=subprocess.STDOUT, text=True, cwd=ROOT)
            for name, extra in {"as shipped": [], "one epoch more": ["--epochs", "13"]}.items()}
    output = {name: run.communicate(timeout=600)[0] for name, run in runs.items()}
    assert runs["as shipped"].returncode == 0, output["as shipped"]
    assert "same weights as the shipped file" in output["as shipped"]
    assert runs["one epoch more"].returncode == 1, output["one epoch more"]
    assert "DIFFERENT from the shipped file" in output["one epoch more"]


def _neighbour_correlation_by_loops(kernels):
    products, energies = 0.0, 0.0
    k = [np.asarray(x, float) - np.mean(x) for x in kernels]
    for dr, dc in [(0, 1), (1, 0)]:
        ab = aa = bb = 0.0
        for x in k:
            for r in range(x.shape[0] - dr):
                for c in range(x.shape[1] - dc):
                    a, b = x[r + dr, c + dc], x[r, c]
                    ab, aa, bb = ab + a * b, aa + a * a, bb + b * b
        products, energies = products + ab, energies + (aa * bb) ** 0.5
    return products / energies


def test_neighbour_correlation_is_near_0_for_noise_and_high_for_smooth_kernels():
    rng = np.random.default_rng(0)
    noise = rng.normal(size=(200, 5, 5))
    y, x = np.mgrid[-2:3, -2:3]
    smooth = np.stack([np.cos(a) * x + np.sin(a) * y for a in rng.uniform(0, np.pi, 20)])  # ramps
    for kernels in (noise, smooth, trained.small_cnn()[0].weight[:, 0]):
        assert trained.neighbour_correlation(kernels) == pytest.approx(_neighbour_correlation_by_loops(kernels))
    assert abs(trained.neighbour_correlation(noise)) < 0.05
    assert trained.neighbour_correlation(smooth) > 0.5
    with pytest.raises(ValueError, match="kernels must have shape"):
        trained.neighbour_correlation(np.ones((3, 3)))


def test_what_notebook_11_says_of_the_shipped_network():
    # Each assertion is a sentence of notebooks/12_what_training_changes.ipynb.
    before, after = trained.small_cnn(trained=False), trained.small_cnn()
    # "Training ... changed every one of them."
    assert all(not np.allclose(b, a) for b, a in zip(before[0].weight, after[0].weight))
    # "close to 0" before training, "clearly positive" after
    assert abs(trained.neighbour_correlation(before[0].weight[:, 0])) < 0.1
    assert trained.neighbour_correlation(after[0].weight[:, 0]) > 0.25
    # "in this small network ... it becomes more concentrated" (both shares of the mass the cell prints)
    from rfmaps import input_region, mass_width
    images, neuron = trained.shape_images(32), (4, 4)
    centre = tuple((low + high) // 2 for low, high in input_region(after, neuron, 32))
    fields = [trained.mean_effective_field(layers, images, neuron) for layers in (before, after)]
    for share in (0.9, 0.5):
        assert mass_width(fields[1], centre, share) < mass_width(fields[0], centre, share)
