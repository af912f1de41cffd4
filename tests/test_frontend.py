"""use_interactive_figures: the first cell of every notebook, on Colab, elsewhere, and without ipympl."""

import sys
import types

import pytest

# Imported here, with the real IPython, so that no import inside a test meets the fake shell. The import
# switches matplotlib to ipympl; conftest's agg_backend fixture switches every test back to Agg.
import ipympl.backend_nbagg  # noqa: F401

from rfmaps.widgets import frontend, use_interactive_figures


class FakeShell:
    def __init__(self):
        self.magics = []

    def run_line_magic(self, name, line):
        self.magics.append((name, line))


@pytest.fixture
def shell(monkeypatch):
    fake = FakeShell()
    monkeypatch.setattr("IPython.get_ipython", lambda: fake)
    return fake


@pytest.fixture
def colab(monkeypatch):
    """A stand-in for Colab's ``google.colab.output`` that records the call."""
    calls = []
    output = types.SimpleNamespace(enable_custom_widget_manager=lambda: calls.append("enabled"))
    colab = types.ModuleType("google.colab")
    colab.output = output
    google = types.ModuleType("google")
    google.colab = colab
    monkeypatch.setitem(sys.modules, "google", google)
    monkeypatch.setitem(sys.modules, "google.colab", colab)
    return calls


def test_jupyterlab_and_vscode_get_ipympl_and_nothing_else(shell, capsys):
    assert "google.colab" not in sys.modules
    use_interactive_figures()
    assert shell.magics == [("matplotlib", "widget")]
    assert capsys.readouterr().out == ""  # silent where everything is in place


def test_colab_turns_on_its_widget_manager_before_ipympl(shell, colab, capsys):
    use_interactive_figures()
    assert colab == ["enabled"]
    assert shell.magics == [("matplotlib", "widget")]
    assert capsys.readouterr().out == ""


def test_without_ipympl_figures_fall_back_to_static_images_and_say_so(shell, monkeypatch, capsys):
    monkeypatch.setitem(sys.modules, "ipympl", None)  # makes `import ipympl` raise ImportError
    use_interactive_figures()
    assert shell.magics == [("matplotlib", "inline")]
    assert "row and column sliders" in capsys.readouterr().out


def test_outside_ipython_nothing_changes(monkeypatch):
    import matplotlib

    monkeypatch.setattr("IPython.get_ipython", lambda: None)
    backend = matplotlib.get_backend()
    assert use_interactive_figures() is None
    assert matplotlib.get_backend() == backend
    assert frontend.__all__ == ["use_interactive_figures"]


def test_tests_here_draw_with_agg_although_this_module_imported_ipympl():
    # conftest.agg_backend: the backend of a test never depends on which modules were collected before it.
    import matplotlib

    assert matplotlib.get_backend().lower() == "agg"
