"""Session fixtures shared by the tests of what users install (see ``installation.py``)."""

import pytest

import installation


@pytest.fixture(scope="session")
def distributions(tmp_path_factory):
    """The sdist and the wheel, built once per test run: ``{"sdist": path, "wheel": path}``."""
    return installation.build_distributions(tmp_path_factory.mktemp("dist"))


@pytest.fixture(scope="session")
def installed(distributions, tmp_path_factory):
    """A virtual environment made as Binder makes it, with the built wheel installed (not editable)."""
    return installation.binder_environment(distributions["wheel"], tmp_path_factory.mktemp("binder"))
