"""The package ships ``py.typed``: the modules listed here stay clean under mypy.

mypy runs once on the whole package with the settings of ``[tool.mypy]`` in
pyproject.toml (an error in one module can come from a change in another it
imports), and the test fails on any error reported in a listed module, with
mypy's own lines. A module joins the list when mypy finds nothing in it; the
list only grows. When every module is on it, this tests the whole package.
"""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# Modules without a mypy error (#25). Add one when it becomes clean; never remove one.
CLEAN = [
    "rfmaps",
    "rfmaps.models.architectures",
    "rfmaps.models.inception",
    "rfmaps.models.network",
    "rfmaps.models.slim",
    "rfmaps.check",
    "rfmaps.check.answers",
    "rfmaps.check.byhand",
    "rfmaps.check.choices",
    "rfmaps.check.design",
    "rfmaps.check.feature_map",
    "rfmaps.check.feedback",
    "rfmaps.check.fields",
    "rfmaps.check.formulas",
    "rfmaps.check.ids",
    "rfmaps.check.sizes",
    "rfmaps.check.variants",
    "rfmaps.arithmetic.connectivity",
    "rfmaps.arithmetic",
    "rfmaps.arithmetic.receptive_field",
    "rfmaps.layers.residual",
    "rfmaps.layers.global_pool",
    "rfmaps.layers.gate",
    "rfmaps.layers.flatten",
    "rfmaps._core",
    "rfmaps.engine",
    "rfmaps.drawing",
    "rfmaps.models",
    "rfmaps.models.convert",
    "rfmaps.drawing.figures",
    "rfmaps.engine.maps",
    "rfmaps.drawing.explain",
    "rfmaps._core.geometry",
    "rfmaps.engine.growth",
    "rfmaps.engine.images",
    "rfmaps.engine.kernels",
    "rfmaps.layers",
    "rfmaps.layers.activations",
    "rfmaps.layers.base",
    "rfmaps.layers.batchnorm",
    "rfmaps.layers.channels",
    "rfmaps.layers.conv",
    "rfmaps.layers.pointwise",
    "rfmaps.layers.pooling",
    "rfmaps.layers.transposed",
    "rfmaps.layers.upsample",
    "rfmaps._core.sliding",
    "rfmaps.models.trained",
    "rfmaps.models.zoo",
    "rfmaps._core.validation",
    "rfmaps.drawing.volumes",
    "rfmaps.drawing.zoo",
    "rfmaps.widgets",
    "rfmaps.widgets._base",
    "rfmaps.widgets._cache",
    "rfmaps.widgets._canvas",
    "rfmaps.widgets._cells",
    "rfmaps.widgets._intake",
    "rfmaps.widgets._selection",
    "rfmaps.widgets._texts",
    "rfmaps.widgets._wiring",
    "rfmaps.widgets.controls",
    "rfmaps.widgets.conv",
    "rfmaps.widgets.erf",
    "rfmaps.widgets.frontend",
    "rfmaps.widgets.guesses",
    "rfmaps.widgets.predict",
    "rfmaps.widgets.projective",
    "rfmaps.widgets.stack",
    "rfmaps.widgets.volume",
]


def _path(module: str) -> str:
    """The file of ``module``, relative to the repository, as mypy names it."""
    base = ROOT / module.replace(".", "/")
    path = base / "__init__.py" if base.is_dir() else base.with_suffix(".py")
    return path.relative_to(ROOT).as_posix()


def _every_module() -> list[str]:
    return sorted(".".join(p.relative_to(ROOT).with_suffix("").parts).removesuffix(".__init__")
                  for p in (ROOT / "rfmaps").rglob("*.py"))


def test_the_list_names_real_modules_once():
    assert len(set(CLEAN)) == len(CLEAN), "a module is listed twice"
    missing = [m for m in CLEAN if not (ROOT / _path(m)).is_file()]
    assert not missing, f"CLEAN lists modules that do not exist (renamed? list the new name): {missing}"


def test_clean_modules_have_no_mypy_error():
    # The default cache (.mypy_cache, ignored by git) makes a second run incremental.
    result = subprocess.run([sys.executable, "-m", "mypy", "--config-file", "pyproject.toml",
                             "--no-color-output", "--no-error-summary", "rfmaps"],
                            cwd=ROOT, capture_output=True, text=True, timeout=600)
    assert result.returncode in (0, 1), f"mypy itself failed:\n{result.stdout}\n{result.stderr}"
    lines = result.stdout.splitlines()
    if set(_every_module()) <= set(CLEAN):  # the whole package is clean: so is any module added later
        assert result.returncode == 0, "mypy finds errors in rfmaps:\n" + "\n".join(lines)
    paths = {_path(m) for m in CLEAN}
    found = [line for line in lines if (match := re.match(r"([^:]+\.py):\d+: (error|note):", line))
             and match.group(1) in paths]
    assert not any(": error:" in line for line in found), (
        "mypy finds errors in modules listed as clean:\n" + "\n".join(found))
