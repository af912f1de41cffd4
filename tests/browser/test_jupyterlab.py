"""Students' view: every notebook in a real JupyterLab, worked like a student would.

Opens each notebook, runs all cells from the Run menu, waits for the kernel,
and fails on an error output or a widget that did not display. In notebooks
with an explorer it presses an arrow key on a slider handle (the picture must
change) and clicks a neuron on the ipympl canvas (the readout must name it).
Screenshots go to build/screenshots/ for a person to look at.
"""

import re
import time
from pathlib import Path

import pytest

from .conftest import ROOT, SCREENSHOTS, settings_applied, shutdown_kernels

NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
# Where to click on the first explorer's canvas (fractions of its width and height):
# on the feature maps (ConvExplorer), a deep layer (StackExplorer), the heat map (ERFExplorer).
# A few spots, tried in turn, in case one falls on the gap between two maps.
CLICK = {"05_depth.ipynb": [(0.5, 0.3), (0.7, 0.25), (0.3, 0.35)], "06_pooling.ipynb": [(0.5, 0.3), (0.7, 0.25)],
         "07_effective_receptive_field.ipynb": [(0.45, 0.45), (0.55, 0.6)]}
CONV_CLICKS = [(0.8, 0.4), (0.72, 0.3), (0.9, 0.65), (0.75, 0.75)]
# ProjectiveExplorer: clicks pick an input pixel (the left panel), and the readout names the pixel.
CLICK["09_transposed_convolution.ipynb"] = [(0.05, 0.4), (0.12, 0.7), (0.08, 0.5)]
# The first explorer of 11 and 12 is an ERFExplorer on a given network: clicks as in 07.
CLICK["11_your_own_network.ipynb"] = CLICK["12_what_training_changes.ipynb"] = [(0.45, 0.45), (0.55, 0.6),
                                                                                (0.5, 0.5)]
# 13's explorer is an ERFExplorer on a real trunk whose last map is coarse (AlexNet's 5 x 5 without torchvision):
# spots far apart on the middle panel, so that one of them falls on another neuron than the one selected.
CLICK["13_networks_you_use.ipynb"] = [(0.40, 0.25), (0.55, 0.6), (0.42, 0.55), (0.5, 0.3)]
READOUT = {"09_transposed_convolution.ipynb": ("Pixel (", r"Pixel \(row \d+, col \d+\)")}
NEURON_READOUT = ("Neuron (", r"Neuron \((row )?\d+, (col )?\d+\)")


PANEL = ".jp-NotebookPanel:not(.lm-mod-hidden)"  # the notebook on show, not older tabs


def wait_until(condition, seconds=120, step=0.5):
    deadline = time.time() + seconds
    while time.time() < deadline:
        value = condition()
        if value:
            return value
        time.sleep(step)
    raise AssertionError(f"timed out after {seconds} s waiting for {condition.__doc__ or condition}")


def run_all(page):
    page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
    page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()


def prompts(page):
    """The execution count of each code cell, as shown (``[3]:``)."""
    # A cell whose source is hidden (the predictions) shows its count on its output only.
    return page.evaluate(
        f"() => Array.from(document.querySelectorAll('{PANEL} .jp-CodeCell')).map(c => "
        "['.jp-InputArea-prompt', '.jp-OutputArea-prompt']"
        ".map(s => c.querySelector(s)).map(p => p ? p.textContent.trim() : '')"
        ".find(t => /^\\[\\d+\\]:$/.test(t)) || '')")


def finished(page, code_cells):
    """every code cell has an execution count and the kernel is idle"""
    shown = prompts(page)
    done = len(shown) == code_cells and all(re.fullmatch(r"\[\d+\]:", p) for p in shown)
    return done and page.locator("text=| Idle").count() > 0


def canvas_pixels(page, index=0):
    return page.evaluate(
        "i => { const c = document.querySelectorAll('.jupyter-matplotlib-figure canvas')[i];"
        " return c ? c.toDataURL() : null; }", index)


def test_lab_uses_the_project_settings(lab):
    settings = settings_applied(lab)
    assert settings["schema"]["properties"]["commsOverSubshells"]["default"] == "disabled"


@pytest.fixture
def lab_session(lab):
    yield lab
    shutdown_kernels(lab)


@pytest.mark.parametrize("name", NOTEBOOKS)
def test_notebook_in_the_browser(lab_session, page, name):
    lab = lab_session
    import nbformat

    nb = nbformat.read(ROOT / "notebooks" / name, as_version=4)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    has_explorer = any("Explorer(" in c.source for c in nb.cells if c.cell_type == "code")

    # ?reset: a fresh workspace, without the tabs an earlier test left open.
    page.goto(f"{lab['url']}/lab/tree/{name}?reset&token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    wait_until(lambda: page.locator("text=| Idle").count() > 0, 90)
    run_all(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        wait_until(lambda: finished(page, code_cells), 240)
    except AssertionError:
        page.screenshot(path=str(SCREENSHOTS / f"{Path(name).stem}-timeout.png"), full_page=True)
        raise AssertionError(f"Run All did not finish: {code_cells} code cells, prompts {prompts(page)}")

    errors = page.locator(f"{PANEL} .jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']")
    for i in range(errors.count()):
        assert "Error" not in errors.nth(i).inner_text(), errors.nth(i).inner_text()
    assert page.locator(".jp-OutputArea-output", has_text="Traceback").count() == 0
    assert page.locator("text=Error displaying widget").count() == 0

    if has_explorer:
        wait_until(lambda: canvas_pixels(page), 60)
        figure = page.locator(".jupyter-matplotlib-figure").first
        figure.scroll_into_view_if_needed()
        before = wait_until(lambda: canvas_pixels(page), 30)
        # A slider handle, keyed like a student would: the picture must change.
        handle = page.locator(".rfmaps-range input[type=range]").first
        handle.focus()
        handle.press("ArrowRight")
        wait_until(lambda: canvas_pixels(page) not in (None, before), 60)

        # A click on a neuron (an input pixel for the projective field): the readout must name it.
        marker, pattern = READOUT.get(name, NEURON_READOUT)
        readout = page.locator(".rfmaps-text", has_text=marker).first  # the readout (a LiveText)
        old_text = readout.inner_text()
        canvas = figure.locator("canvas").last  # the first explorer's top canvas gets the events
        box = canvas.bounding_box()
        for fx, fy in CLICK.get(name, CONV_CLICKS):
            page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
            try:
                new_text = wait_until(lambda: (t := readout.inner_text()) != old_text and t, 15)
                break
            except AssertionError:
                continue
        else:
            page.screenshot(path=str(SCREENSHOTS / f"{Path(name).stem}-no-click.png"))
            raise AssertionError(f"no click on the canvas changed the readout: {old_text}")
        assert re.search(pattern, new_text), new_text
        page.screenshot(path=str(SCREENSHOTS / f"{Path(name).stem}-explorer.png"))
    else:  # (with an explorer, the page in view is the explorer shot above)
        page.screenshot(path=str(SCREENSHOTS / f"{Path(name).stem}.png"), full_page=True)
