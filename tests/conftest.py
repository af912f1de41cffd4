"""Session fixtures shared by the tests of what users install (see ``installation.py``)."""

import json
import os
from pathlib import Path

import matplotlib
import pytest

import installation

# Every in-process test draws with Agg, whatever the machine or the order in which test modules are
# collected (importing ipympl.backend_nbagg, as tests/test_frontend.py must, switches the backend).
# Interactive (ipympl) figures are tested where students meet them: in kernels and in the browser.
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def default_feedback_policy(monkeypatch):
    """Each test starts with rfmaps.check's default feedback policy, whatever the developer's shell sets."""
    monkeypatch.delenv("RFMAPS_FEEDBACK", raising=False)


@pytest.fixture(autouse=True)
def agg_backend():
    """Each test starts under Agg; an import or a test that switched away is undone first."""
    if matplotlib.get_backend().lower() != "agg":
        import matplotlib.pyplot as plt

        plt.switch_backend("Agg")
    yield


def once_per_run(tmp_path_factory, name: str, make):
    """``make(folder)`` once per test run, also when pytest-xdist runs tests in several workers.

    Alone, pytest runs it in a fresh folder. Under xdist (``make test`` uses two workers) every worker
    asks; the first one makes it under a file lock in the run's shared temporary folder and writes the
    JSON result there, the others wait for the lock and read it. ``make`` must return JSON data.
    """
    if os.environ.get("PYTEST_XDIST_WORKER") is None:
        return make(tmp_path_factory.mktemp(name))
    from filelock import FileLock

    shared = tmp_path_factory.getbasetemp().parent  # the same folder for every worker of this run
    result = shared / f"{name}.json"
    with FileLock(str(shared / f"{name}.lock")):
        if not result.exists():
            folder = shared / name
            folder.mkdir()
            result.write_text(json.dumps(make(folder)))
    return json.loads(result.read_text())


@pytest.fixture(scope="session")
def distributions(tmp_path_factory):
    """The sdist and the wheel, built once per test run: ``{"sdist": path, "wheel": path}``."""
    made = once_per_run(tmp_path_factory, "dist", lambda folder: {
        kind: str(path) for kind, path in installation.build_distributions(folder).items()})
    return {kind: Path(path) for kind, path in made.items()}


@pytest.fixture(scope="session")
def installed(distributions, tmp_path_factory):
    """A virtual environment made as Binder makes it, with the built wheel installed (not editable)."""
    def make(folder):
        environment = installation.binder_environment(distributions["wheel"], folder)
        return {"venv": str(environment.venv), "postbuild_direct_url": environment.postbuild_direct_url}

    made = once_per_run(tmp_path_factory, "binder", make)
    return installation.Installed(Path(made["venv"]), made["postbuild_direct_url"])
