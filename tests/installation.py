"""Build rfmaps and install it the way courses do, for the tests that check what users get.

* :func:`build_distributions` runs ``python -m build``: an sdist, then a wheel
  built *from that sdist*, so a file missing from either one shows.
* :func:`binder_environment` makes a fresh virtual environment the way
  mybinder.org makes its image: the pinned packages of ``binder/environment.yml``
  (its pip section), then ``binder/postBuild`` run from a copy of the repository
  that is deleted afterwards. Finally the wheel of :func:`build_distributions`
  replaces what postBuild installed, so the notebooks run against the wheel.

Nothing here imports the checkout: the tests run the environment's own Python
from a folder outside the source tree.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Dict, List

ROOT = Path(__file__).resolve().parents[1]
BINDER = ROOT / "binder"
# Kept between local runs (rebuilt when the pins change); a CI clone starts without it.
ENVIRONMENT = ROOT / "build" / "installed-venv"
COPY_IGNORE = shutil.ignore_patterns(".git", ".venv", "build", "dist", "*.egg-info", "__pycache__",
                                     ".pytest_cache", ".hypothesis", ".ipynb_checkpoints")


def run(command: List[str], **kwargs) -> str:
    """Run a command; on failure raise with everything it printed (pytest shows it)."""
    result = subprocess.run([str(c) for c in command], capture_output=True, text=True, **kwargs)
    if result.returncode != 0:
        raise RuntimeError(f"{' '.join(map(str, command))} exited with {result.returncode}:\n"
                           f"{result.stdout}\n{result.stderr}")
    return result.stdout


def environment_file() -> dict:
    """``binder/environment.yml`` as data (PyYAML comes with JupyterLab's dependencies)."""
    import yaml

    return yaml.safe_load((BINDER / "environment.yml").read_text())


def pip_pins(environment: dict) -> Dict[str, str]:
    """``{name: version}`` from the pip section; every entry must be an exact ``==`` pin."""
    sections = [d["pip"] for d in environment["dependencies"] if isinstance(d, dict) and "pip" in d]
    if len(sections) != 1:
        raise ValueError("binder/environment.yml needs exactly one pip section")
    pins = {}
    for line in sections[0]:
        match = re.fullmatch(r"([A-Za-z0-9_.-]+)==([A-Za-z0-9_.+-]+)", line.strip())
        if not match:
            raise ValueError(f"binder/environment.yml: {line!r} is not an exact pin (name==version)")
        pins[match.group(1).lower()] = match.group(2)
    return pins


def build_distributions(out: Path) -> Dict[str, Path]:
    """Build the sdist and the wheel (from the sdist) into ``out``; return both paths."""
    run([sys.executable, "-m", "build", "--outdir", out, ROOT])
    sdists, wheels = sorted(out.glob("rfmaps-*.tar.gz")), sorted(out.glob("rfmaps-*.whl"))
    assert len(sdists) == 1 and len(wheels) == 1, f"expected one sdist and one wheel in {out}"
    return {"sdist": sdists[0], "wheel": wheels[0]}


def environment_python(venv: Path) -> Path:
    return venv / "bin" / "python"


def clean_env(venv: Path) -> dict:
    """Process environment for the installed Python: its bin first, nothing from the checkout."""
    env = {k: v for k, v in os.environ.items() if k not in {"PYTHONPATH", "VIRTUAL_ENV", "PYTHONHOME"}}
    env["PATH"] = f"{venv / 'bin'}{os.pathsep}{env.get('PATH', '')}"
    env["VIRTUAL_ENV"] = str(venv)
    return env


@dataclass(frozen=True)
class Installed:
    """The environment, and what pip recorded when ``binder/postBuild`` installed rfmaps there."""

    venv: Path
    postbuild_direct_url: dict

    @property
    def python(self) -> Path:
        return environment_python(self.venv)


def binder_environment(wheel: Path, scratch: Path) -> Installed:
    """A virtual environment made as Binder makes its image, with ``wheel`` installed last."""
    pins = pip_pins(environment_file())
    stamp_text = json.dumps({"pins": pins, "python": sys.version}, sort_keys=True)
    stamp = ENVIRONMENT / "rfmaps-pins.json"
    python = environment_python(ENVIRONMENT)
    if not (stamp.exists() and stamp.read_text() == stamp_text and python.exists()):
        shutil.rmtree(ENVIRONMENT, ignore_errors=True)
        run([sys.executable, "-m", "venv", ENVIRONMENT])
        run([python, "-m", "pip", "install", "-q", "--upgrade", "pip"])
        # Installing the pins proves each one exists on PyPI for this Python.
        run([python, "-m", "pip", "install", "-q", *(f"{n}=={v}" for n, v in pins.items())])
        stamp.write_text(stamp_text)

    # binder/postBuild exactly as repo2docker runs it: from the repository root, with the
    # environment's bin on PATH and NB_PYTHON_PREFIX naming the environment.
    checkout = scratch / "repository"
    shutil.rmtree(checkout, ignore_errors=True)
    shutil.copytree(ROOT, checkout, ignore=COPY_IGNORE)
    env = clean_env(ENVIRONMENT)
    env["NB_PYTHON_PREFIX"] = str(ENVIRONMENT)
    run(["bash", checkout / "binder" / "postBuild"], cwd=checkout, env=env)
    shutil.rmtree(checkout)  # an editable install would now point nowhere
    postbuild_direct_url = json.loads(installed_direct_url(ENVIRONMENT))

    run([python, "-m", "pip", "install", "-q", "--no-deps", "--force-reinstall", wheel], env=clean_env(ENVIRONMENT))
    run([python, "-m", "pip", "check"], env=clean_env(ENVIRONMENT))
    return Installed(ENVIRONMENT, postbuild_direct_url)


def installed_direct_url(venv: Path) -> str:
    """pip's record of where rfmaps was installed from ("{}" when it has none)."""
    code = ("import importlib.metadata as m; "
            "print(m.distribution('rfmaps').read_text('direct_url.json') or '{}')")
    return run([environment_python(venv), "-c", code], cwd=venv, env=clean_env(venv)).strip()


def wheel_names(wheel: Path) -> List[str]:
    with zipfile.ZipFile(wheel) as archive:
        return archive.namelist()


def kernel_spec(venv: Path, where: Path) -> Path:
    """A kernelspec folder whose kernel is the environment's own Python (returns the kernels dir)."""
    kernels = where / "kernels"
    spec = kernels / "rfmaps-installed"
    spec.mkdir(parents=True, exist_ok=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [str(environment_python(venv)), "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "rfmaps (installed wheel)",
        "language": "python",
    }))
    return kernels
