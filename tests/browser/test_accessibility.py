"""Accessibility of the notebooks' outputs, checked in a real JupyterLab.

* axe-core (npm, pinned in the Makefile and installed by ``make test`` into
  build/node/, git-ignored) runs over every notebook's outputs after Run All,
  with the WCAG 2.0 and 2.1 A and AA rules: no serious or critical violation.
* A keyboard-only walk of every explorer: focus lands on its first control,
  then Tab reaches each control in turn (with a visible focus ring), a key
  moves it, and the picture or the readout answers; the readout becomes the
  figure's description and, once settled, the polite live region's text. A
  notebook written here shows all five explorer kinds (the teaching notebooks
  need not show every kind), and every Predict is answered by keyboard.
"""

import json
import os
import re
from pathlib import Path

import pytest

from .conftest import ROOT, SCREENSHOTS, shutdown_kernels
from .test_jupyterlab import PANEL, finished, prompts, run_all, wait_until

AXE = ROOT / "build" / "node" / "node_modules" / "axe-core" / "axe.min.js"
AXE_TAGS = ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]
NOTEBOOKS = sorted(p.name for p in (ROOT / "notebooks").glob("*.ipynb"))
ALL_EXPLORERS = "a11y_every_explorer.ipynb"  # written into the server's copy of notebooks/
EXPLORER_CELLS = [
    "from rfmaps.widgets import use_interactive_figures\nuse_interactive_figures()",
    "from rfmaps.widgets import ConvExplorer\nConvExplorer('disk', size=24, kernels=2)",
    "from rfmaps.widgets import StackExplorer\nStackExplorer('checkerboard', depth=2, size=32)",
    "from rfmaps.widgets import ERFExplorer\nERFExplorer('letter', depth=2, size=24)",
    "from rfmaps.widgets import ProjectiveExplorer\nProjectiveExplorer()",
    "from rfmaps.widgets import VolumeExplorer\nVolumeExplorer('photo', kernel_size=3, kernels=3, size=24)",
]


@pytest.fixture(scope="module")
def axe_source():
    if not AXE.exists():
        message = f"axe-core not installed at {AXE.relative_to(ROOT)} (make test installs it)"
        if os.environ.get("RFMAPS_REQUIRE_BROWSER") == "1":
            pytest.fail(message)
        pytest.skip(message)
    return AXE.read_text(encoding="utf-8")


@pytest.fixture
def lab_session(lab):
    yield lab
    shutdown_kernels(lab)


def open_and_run(page, lab, name, code_cells):
    page.goto(f"{lab['url']}/lab/tree/{name}?reset&token={lab['token']}")
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=90_000)
    wait_until(lambda: page.locator("text=| Idle").count() > 0, 90)
    run_all(page)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    try:
        wait_until(lambda: finished(page, code_cells), 300)
    except AssertionError:
        page.screenshot(path=str(SCREENSHOTS / f"a11y-{Path(name).stem}-timeout.png"), full_page=True)
        raise AssertionError(f"Run All did not finish: {code_cells} code cells, prompts {prompts(page)}")


def explorer_boxes(page):
    """How many explorers the notebook shows (each picture carries rfmaps-figure)."""
    return page.locator(f"{PANEL} .rfmaps-figure").count()


def widgets_rendered(page, explorers):
    """every explorer's figure has pixels and its readout has text"""
    return page.evaluate(
        """([panel, n]) => {
            const figures = Array.from(document.querySelectorAll(`${panel} .rfmaps-figure`));
            return figures.length === n && figures.every(f => {
                const canvas = f.querySelector('canvas');
                const text = document.getElementById(f.getAttribute('aria-describedby'));  // the readout
                return canvas && canvas.width > 0 && text && text.textContent.trim().length > 0;
            });
        }""", [PANEL, explorers])


def axe_violations(page, axe_source):
    """Serious and critical axe-core violations in the notebook's outputs."""
    if not page.evaluate("() => typeof window.axe !== 'undefined'"):
        page.evaluate(axe_source)
    result = page.evaluate(
        """async ([panel, tags]) => {
            const outputs = Array.from(document.querySelectorAll(`${panel} .jp-OutputArea-output`));
            if (!outputs.length) return [];
            const r = await axe.run({include: outputs.map(o => o)},
                                    {runOnly: {type: 'tag', values: tags}, resultTypes: ['violations']});
            return r.violations.map(v => ({id: v.id, impact: v.impact, help: v.help,
                                           nodes: v.nodes.map(n => n.html.slice(0, 160))}));
        }""", [PANEL, AXE_TAGS])
    return [v for v in result if v["impact"] in ("serious", "critical")]


def picture_and_text(page, index):
    """The explorer's canvas pixels, readout and message, to see whether a key press changed anything."""
    return page.evaluate(
        """([panel, i]) => {
            const box = document.querySelectorAll(`${panel} .rfmaps-figure`)[i].parentElement;
            const pixels = Array.from(box.querySelectorAll('canvas')).map(c => c.toDataURL()).join('|');
            const texts = Array.from(box.querySelectorAll('.rfmaps-text')).map(t => t.textContent).join('|');
            return pixels + '#' + texts;
        }""", [PANEL, index])


MARK_CONTROLS = """([panel, i]) => {
    // The explorer's controls a student can reach (not hidden rows), in Tab order, marked for the test.
    const box = document.querySelectorAll(`${panel} .rfmaps-figure`)[i].parentElement;
    const all = Array.from(box.firstElementChild.querySelectorAll('input, select, button, textarea'));
    const shown = all.filter(e => e.offsetParent !== null && !e.disabled);
    shown.forEach((e, k) => e.setAttribute('data-a11y-test', `${i}-${k}`));
    return shown.map(e => ({tag: e.tagName.toLowerCase(), type: e.type || '', value: e.value,
                            min: e.min, max: e.max, options: e.options ? e.options.length : 0,
                            index: e.selectedIndex ?? -1}));
}"""


def move_by_keyboard(page, control):
    """The key that moves a focused control one step, and the control's new value."""
    if control["type"] == "range":
        return "ArrowLeft" if control["value"] == control["max"] else "ArrowRight"
    if control["tag"] == "select":
        return "ArrowUp" if control["index"] == control["options"] - 1 else "ArrowDown"
    return "Space"  # a checkbox or a button


def focus_ring(page):
    """The focused element's outline, as the page paints it."""
    return page.evaluate(
        "() => { const s = getComputedStyle(document.activeElement); "
        "return s.outlineStyle !== 'none' && parseFloat(s.outlineWidth) > 0 || s.boxShadow !== 'none'; }")


def walk_explorer(page, index, name):
    """Tab through every control of explorer ``index``; each key press must change the picture or a text."""
    controls = page.evaluate(MARK_CONTROLS, [PANEL, index])
    assert any(c["type"] == "range" for c in controls), controls
    first = page.locator(f"[data-a11y-test='{index}-0']")
    first.scroll_into_view_if_needed()
    first.focus()  # arriving at the explorer; from here on only keys
    if len(controls) > 1:  # (a focus() after mouse clicks shows no ring: come back to it by keys)
        page.keyboard.press("Tab")
        page.keyboard.press("Shift+Tab")
    for k, control in enumerate(controls):
        if k:
            page.keyboard.press("Tab")
        active = page.evaluate("() => document.activeElement.getAttribute('data-a11y-test')")
        assert active == f"{index}-{k}", f"Tab reached {active}, not control {k} ({control}) of explorer {index}"
        assert page.evaluate("() => document.activeElement.matches(':focus-visible')"), control
        assert focus_ring(page), f"no visible focus on control {k} ({control}) of explorer {index}"
        if control["type"] == "range" and control["min"] == control["max"]:
            continue  # a range of one value (one map, say): nothing to move
        before = picture_and_text(page, index)
        key = move_by_keyboard(page, control)
        # One step may show the same picture (two samples that look alike at this size): a few more.
        for _ in range(3):
            page.keyboard.press(key)
            try:
                wait_until(lambda: picture_and_text(page, index) != before, 30, 0.25)
                break
            except AssertionError:
                continue
        else:
            page.screenshot(path=str(SCREENSHOTS / f"a11y-{Path(name).stem}-{index}-{k}.png"))
            raise AssertionError(f"{key} (3 times) on control {k} ({control}) of explorer {index} changed nothing")
    # The figure is described by the readout, and the live region says the same once settled.
    described = page.evaluate(
        """([panel, i]) => {
            const figure = document.querySelectorAll(`${panel} .rfmaps-figure`)[i];
            const by = document.getElementById(figure.getAttribute('aria-describedby'));
            const live = figure.parentElement.querySelector('.rfmaps-live [aria-live="polite"]');
            return {role: figure.getAttribute('role'), name: figure.getAttribute('aria-label'),
                    text: by ? by.textContent : null, live: live ? live.textContent : null};
        }""", [PANEL, index])
    assert described["role"] == "img" and described["name"], described
    assert described["text"], described
    wait_until(lambda: page.evaluate(
        """([panel, i]) => {
            const box = document.querySelectorAll(`${panel} .rfmaps-figure`)[i].parentElement;
            const text = box.querySelector('.rfmaps-text').textContent;
            return box.querySelector('.rfmaps-live [aria-live="polite"]').textContent === text;
        }""", [PANEL, index]), 10, 0.2)


def selects_a_neuron_by_keyboard(page, index):
    """The row control moved by a key: the readout names the neuron (or pixel) in the new row."""
    found = page.evaluate(
        """([panel, i]) => {
            const box = document.querySelectorAll(`${panel} .rfmaps-figure`)[i].parentElement;
            const row = Array.from(box.querySelectorAll('.rfmaps-range')).find(
                r => /\\brow$/.test(r.querySelector('label').textContent.trim()));
            if (!row) return null;
            row.querySelector('input').setAttribute('data-a11y-row', String(i));
            return true;
        }""", [PANEL, index])
    assert found, f"explorer {index} has no row control"
    row = page.locator(f"[data-a11y-row='{index}']")
    row.scroll_into_view_if_needed()
    row.focus()
    readout = page.locator(f"{PANEL} .rfmaps-figure").nth(index).locator("xpath=..").locator(".rfmaps-text").last
    before = readout.inner_text()
    value, high = row.input_value(), row.get_attribute("max")
    page.keyboard.press("ArrowLeft" if value == high else "ArrowRight")
    moved = row.input_value()
    after = wait_until(lambda: (t := readout.inner_text()) != before and t, 60)
    assert re.search(rf"(Neuron|Pixel) \((row )?{moved}, (col )?\d+\)", after), (moved, after)


def answer_predicts(page):
    """Every Predict answered with keys only: focus its first choice or field, pick, Tab to Check, Enter."""
    count = page.locator(f"{PANEL} .rfmaps-predict").count()
    for i in range(count):
        predict = page.locator(f"{PANEL} .rfmaps-predict").nth(i)
        predict.scroll_into_view_if_needed()
        choice = predict.locator("button:not(.rfmaps-check), input[type=text]").first
        choice.focus()
        if choice.evaluate("e => e.tagName") == "INPUT":
            page.keyboard.type("1")
        else:
            page.keyboard.press("Enter")
        # Tab on, past the other choices, to Check.
        for _ in range(12):
            if page.evaluate("() => document.activeElement.classList.contains('rfmaps-check')"):
                break
            page.keyboard.press("Tab")
        assert page.evaluate("() => document.activeElement.classList.contains('rfmaps-check')"), i
        assert focus_ring(page), f"no visible focus on Check of Predict {i}"
        page.keyboard.press("Enter")
        wait_until(lambda: predict.locator(".rfmaps-text").inner_text().strip(), 30)
    return count


def write_all_explorers_notebook(root: Path) -> int:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.cells = [nbformat.v4.new_code_cell(source) for source in EXPLORER_CELLS]
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, root / ALL_EXPLORERS)
    return len(EXPLORER_CELLS) - 1


@pytest.mark.parametrize("name", NOTEBOOKS + [ALL_EXPLORERS])
def test_outputs_pass_axe_and_work_by_keyboard(lab_session, page, axe_source, name):
    lab = lab_session
    import nbformat

    if name == ALL_EXPLORERS:
        expected = write_all_explorers_notebook(Path(lab["root"]))
    nb = nbformat.read(Path(lab["root"]) / name, as_version=4)
    code_cells = sum(c.cell_type == "code" for c in nb.cells)
    if name != ALL_EXPLORERS:
        expected = sum(len(re.findall(r"\b\w+Explorer\(", c.source)) for c in nb.cells if c.cell_type == "code")
    open_and_run(page, lab, name, code_cells)
    wait_until(lambda: widgets_rendered(page, expected), 120)

    violations = axe_violations(page, axe_source)
    page.screenshot(path=str(SCREENSHOTS / f"a11y-{Path(name).stem}.png"), full_page=True)
    assert not violations, json.dumps(violations, indent=1, ensure_ascii=False)

    for index in range(expected):
        selects_a_neuron_by_keyboard(page, index)
        walk_explorer(page, index, name)
    answered = answer_predicts(page)
    assert answered == sum(c.source.count("Predict(") for c in nb.cells if c.cell_type == "code")
    # After all that, still nothing serious (messages, answers and new ranges included).
    violations = axe_violations(page, axe_source)
    assert not violations, json.dumps(violations, indent=1, ensure_ascii=False)
