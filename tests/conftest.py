"""Session fixtures shared by the tests of what users install (see ``installation.py``)."""

import matplotlib
import pytest

import installation

# Every in-process test draws with Agg, whatever the machine or the order in which test modules are
# collected (importing ipympl.backend_nbagg, as tests/test_frontend.py must, switches the backend).
# Interactive (ipympl) figures are tested where students meet them: in kernels and in the browser.
matplotlib.use("Agg")


@pytest.fixture(autouse=True)
def agg_backend():
    """Each test starts under Agg; an import or a test that switched away is undone first."""
    if matplotlib.get_backend().lower() != "agg":
        import matplotlib.pyplot as plt

        plt.switch_backend("Agg")
    yield


@pytest.fixture(scope="session")
def distributions(tmp_path_factory):
    """The sdist and the wheel, built once per test run: ``{"sdist": path, "wheel": path}``."""
    return installation.build_distributions(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def installed(distributions, tmp_path_factory):
    """A virtual environment made as Binder makes it, with the built wheel installed (not editable)."""
    return installation.binder_environment(distributions["wheel"], tmp_path_factory.mktemp("binder"))
