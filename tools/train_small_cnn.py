"""Train the small CNN that ships with rfmaps (rfmaps/data/small_cnn.npz).

    python tools/train_small_cnn.py            # writes rfmaps/data/small_cnn.npz
    python tools/train_small_cnn.py --check    # trains again, compares with the shipped file

Needs torch (the test extra: pip install -e '.[test]'); the shipped network
does not (rfmaps.trained reads the file with numpy). Runs on the CPU in about
a minute, and gives the same weights on every run: the data and the initial
weights are seeded, and torch is told to use deterministic algorithms in one
thread.

The data are synthetic shapes drawn by rfmaps.images, so nothing is
downloaded: four classes of 32 x 32 images (a disk, stripes, a checkerboard,
an edge), each moved, scaled and turned at random, with noise
(rfmaps.trained.shape_image).

The file holds the convolutional part twice, as drawn before training
("initial/...") and after ("trained/..."), plus the classifier head
(global average, then a linear map to the four classes) and the accuracy on
held-out images.
"""

from __future__ import annotations

import argparse
import pathlib
import sys

import numpy as np
import torch
from torch import nn

from rfmaps import trained

SEED = 2016  # Luo et al.'s year: any fixed number gives the same weights on every run
SIZE = 32
CLASSES = trained.CLASSES
TRAIN, HELD_OUT, EPOCHS, BATCH = 2000, 400, 12, 50
OUT = pathlib.Path(__file__).resolve().parent.parent / "rfmaps" / "data" / "small_cnn.npz"


def data(count: int, rng: np.random.Generator):
    labels = rng.integers(len(CLASSES), size=count)
    x = np.stack([trained.shape_image(int(k), rng, SIZE) for k in labels])[:, None].astype(np.float32)
    return torch.from_numpy(x), torch.from_numpy(labels)


def network() -> nn.Sequential:
    """The convolutional part (what rfmaps shows) and the head (what makes it learn)."""
    features = nn.Sequential(
        nn.Conv2d(1, 8, 5, padding=2), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),
        nn.Conv2d(8, 8, 3, padding=1), nn.ReLU(),
    )
    head = nn.Sequential(nn.AdaptiveAvgPool2d(1), nn.Flatten(), nn.Linear(8, len(CLASSES)))
    return nn.Sequential(features, head)


def arrays(model: nn.Sequential, prefix: str) -> dict:
    return {f"{prefix}/{name}": value.detach().numpy().astype(np.float32)
            for name, value in model.state_dict().items()}


def train() -> dict:
    torch.manual_seed(SEED)
    torch.use_deterministic_algorithms(True)
    torch.set_num_threads(1)  # sums in one fixed order
    rng = np.random.default_rng(SEED)
    x, y = data(TRAIN, rng)
    x_test, y_test = data(HELD_OUT, rng)
    model = network()
    weights = arrays(model, "initial")
    optimiser = torch.optim.Adam(model.parameters(), lr=0.01)
    order = np.random.default_rng(SEED + 1)
    for epoch in range(EPOCHS):
        model.train()
        for batch in np.split(order.permutation(TRAIN), TRAIN // BATCH):
            optimiser.zero_grad()
            loss = nn.functional.cross_entropy(model(x[batch]), y[batch])
            loss.backward()
            optimiser.step()
        model.eval()
        with torch.no_grad():
            accuracy = (model(x_test).argmax(1) == y_test).float().mean().item()
        print(f"epoch {epoch + 1:2d}: loss {loss.item():.3f}, held-out accuracy {accuracy:.3f}")
    weights.update(arrays(model, "trained"))
    weights["accuracy"] = np.array(accuracy)
    weights["classes"] = np.array(CLASSES)
    return weights


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare with the shipped file instead of writing")
    weights = train()
    if parser.parse_args().check:
        shipped = np.load(OUT)
        same = set(shipped.files) == set(weights) and all(np.array_equal(shipped[k], weights[k]) for k in weights)
        print("same weights as the shipped file" if same else "DIFFERENT from the shipped file")
        return 0 if same else 1
    OUT.parent.mkdir(exist_ok=True)
    np.savez_compressed(OUT, **weights)
    print(f"wrote {OUT} ({OUT.stat().st_size} bytes)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
