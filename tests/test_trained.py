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
    assert (ROOT / "rfmaps" / "data" / "small_cnn.npz").stat().st_size < 20_000
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
    weights = np.load(ROOT / "rfmaps" / "data" / "small_cnn.npz")
    model.load_state_dict({name.removeprefix("trained/"): torch.tensor(weights[name])
                           for name in weights.files if name.startswith("trained/")})
    assert from_torch(model[0]) == trained.small_cnn()
    image = trained.training_image("stripes")
    with torch.no_grad():
        expected = model[0].eval()(torch.tensor(image[None, None], dtype=torch.float32))[0].numpy()
    np.testing.assert_allclose(feature_maps(trained.small_cnn(), image)[-1], expected, rtol=1e-4, atol=1e-5)


def test_the_training_script_gives_the_shipped_weights_again():
    pytest.importorskip("torch")
    result = subprocess.run([sys.executable, str(SCRIPT), "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "same weights as the shipped file" in result.stdout
