"""Speed as a student feels it: key press -> pixels and click -> pixels, in JupyterLab in Chromium.

Run:  .venv/bin/python benchmarks/browser_explorers.py [--trials 20]

Starts its own JupyterLab (the project's settings) and Debian's Chromium
(/usr/bin/chromium, headless, through Playwright), opens a notebook with two
figures under ``%matplotlib widget`` and measures, in the same run:

* the explorer: ``ConvExplorer("photo", kernel_size=5, kernels=6)`` (as in
  notebook 01): an arrow key on its kernel-size slider, a click on a neuron;
* the baseline: the plainest ipympl figure of three images (input, kernels,
  feature maps) whose kernel-size slider recomputes the same maps, calls
  ``set_data`` and ``fig.canvas.draw_idle()``; a click moves a marker and
  calls ``draw_idle()``.

Latency is taken inside the page: from the ``keydown`` (or ``mousedown``)
event to the moment the figure's new frame is drawn into its visible canvas
(ipympl does that with ``drawImage``; the page wraps it to note the time).
Trials alternate explorer and baseline so both see the same machine load.
Goals (issue #16): slider <= 0.8 x baseline, click <= 0.5 x baseline.
"""

import argparse
import json
import os
import re
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests" / "browser"))
from conftest import CHROMIUM, CHROMIUM_ARGS, _free_port, _server, _settings_dir  # noqa: E402

SETUP = """\
%matplotlib widget
import ipywidgets as widgets
import matplotlib.pyplot as plt
import numpy as np
from rfmaps import Conv2d, feature_maps
from rfmaps.drawing.figures import mosaic
from rfmaps.engine.maps import layer_weights
from rfmaps.engine.images import sample
from rfmaps.widgets import ConvExplorer
"""

EXPLORER = """\
explorer = ConvExplorer("photo", kernel_size=5, kernels=6)
explorer
"""

# The plainest figure that shows the same three pictures: no blitting, no caches.
BASELINE = """\
image = sample("photo", size=48)
with plt.ioff():
    fig, axes = plt.subplots(1, 3, figsize=(9.5, 3.8))
fig.canvas.header_visible = fig.canvas.toolbar_visible = fig.canvas.footer_visible = False

def pictures(k):
    layer = Conv2d(3, 6, k)
    return mosaic(layer_weights([layer])[0].sum(axis=1), gap=1)[0], mosaic(feature_maps([layer], image)[0])[0]

kernels, maps = pictures(5)
arts = [axes[0].imshow(image), axes[1].imshow(kernels, cmap="PuOr_r", vmin=-1, vmax=1),
        axes[2].imshow(maps, cmap="PuOr_r", vmin=-1, vmax=1)]
marker, = axes[0].plot([10], [10], "s", color="#D55E00")
for ax, title in zip(axes, ["input", "kernels", "feature maps"]):
    ax.set_title(title)

def on_slider(change):
    kernels, maps = pictures(change["new"])
    arts[1].set_data(kernels)
    arts[1].set_extent((-0.5, kernels.shape[1] - 0.5, kernels.shape[0] - 0.5, -0.5))
    arts[2].set_data(maps)
    arts[2].set_extent((-0.5, maps.shape[1] - 0.5, maps.shape[0] - 0.5, -0.5))
    fig.canvas.draw_idle()

def on_click(event):
    if event.inaxes is not None and event.xdata is not None:
        marker.set_data([event.xdata], [event.ydata])
        fig.canvas.draw_idle()

baseline_slider = widgets.IntSlider(5, min=1, max=11, description="baseline kernel", continuous_update=False)
baseline_slider.observe(on_slider, names="value")
fig.canvas.mpl_connect("button_press_event", on_click)
widgets.VBox([baseline_slider, fig.canvas])
"""

# Wraps drawImage so the page notes when each figure's visible canvas gets a new frame,
# and notes every key press and mouse press (capture phase: before any widget sees it).
HOOKS = """\
() => {
  window.__frames = [[], []];
  window.__t0 = null;
  const figures = () => Array.from(document.querySelectorAll('.jupyter-matplotlib-figure'));
  const original = CanvasRenderingContext2D.prototype.drawImage;
  CanvasRenderingContext2D.prototype.drawImage = function (...args) {
    const result = original.apply(this, args);
    const index = figures().findIndex(f => f.contains(this.canvas));
    if (index >= 0 && index < 2) window.__frames[index].push(performance.now());
    return result;
  };
  for (const name of ['keydown', 'mousedown'])
    document.addEventListener(name, () => { window.__t0 = performance.now(); }, true);
}
"""


def notebook(path: Path) -> None:
    import nbformat

    nb = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in (SETUP, EXPLORER, BASELINE)])
    nb.metadata["kernelspec"] = {"name": "python3", "display_name": "Python 3", "language": "python"}
    nbformat.write(nb, path)


def wait_frame(page, figure: int, timeout_ms: float = 20_000) -> float:
    """Milliseconds from the last key or mouse press to the figure's first new frame after it."""
    page.wait_for_function(
        "i => window.__t0 !== null && window.__frames[i].some(t => t > window.__t0)", arg=figure,
        timeout=timeout_ms)
    return page.evaluate("i => window.__frames[i].find(t => t > window.__t0) - window.__t0", figure)


def pixels(page, figure: int) -> str:
    return page.evaluate(
        "i => document.querySelectorAll('.jupyter-matplotlib-figure')[i].querySelector('canvas').toDataURL()",
        figure)


def settle(page, seconds=0.4):
    """Let trailing frames and messages pass before the next trial."""
    time.sleep(seconds)
    page.evaluate("() => { window.__frames = [[], []]; window.__t0 = null; }")


def summary(name, times):
    ordered = sorted(times)
    p95 = ordered[min(len(ordered) - 1, round(0.95 * (len(ordered) - 1)))]
    print(f"  {name:<34} n={len(times):3d}  median {statistics.median(times):6.1f} ms  p95 {p95:6.1f} ms")
    return statistics.median(times)


def run(trials: int) -> dict:
    from playwright.sync_api import sync_playwright

    tmp = Path(tempfile.mkdtemp(prefix="rfmaps-bench-"))
    root = tmp / "root"
    root.mkdir()
    notebook(root / "bench.ipynb")
    token, port = "bench" + os.urandom(8).hex(), _free_port()
    command = [sys.executable, "-m", "jupyter", "lab", "--no-browser", f"--port={port}", "--ip=127.0.0.1",
               f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={root}", "--allow-root",
               f"--LabServerApp.app_settings_dir={_settings_dir(tmp)}",
               "--LabApp.news_url=", "--LabApp.check_for_updates_class=jupyterlab.NeverCheckForUpdate"]
    results = {"slider": {"explorer": [], "baseline": []}, "click": {"explorer": [], "baseline": []}}
    try:
        with _server(command, tmp, "lab", f"http://127.0.0.1:{port}/api/status?token={token}"), \
                sync_playwright() as playwright:
            browser = playwright.chromium.launch(executable_path=CHROMIUM, headless=True, args=CHROMIUM_ARGS)
            page = browser.new_context(viewport={"width": 1400, "height": 1400}).new_page()
            page.goto(f"http://127.0.0.1:{port}/lab/tree/bench.ipynb?reset&token={token}")
            page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=120_000)
            page.wait_for_function("() => document.body.innerText.includes('| Idle')", timeout=120_000)
            page.locator(".lm-MenuBar-itemLabel", has_text=re.compile(r"^Run$")).click()
            page.locator(".lm-Menu-itemLabel", has_text=re.compile(r"^Run All Cells$")).click()
            page.wait_for_function(
                "() => document.querySelectorAll('.jupyter-matplotlib-figure canvas').length >= 4",
                timeout=180_000)
            time.sleep(3)  # first frames, fonts, layout
            page.evaluate(HOOKS)
            figures = page.locator(".jupyter-matplotlib-figure")
            # The explorer's controls are native range inputs (rfmaps.widgets.controls); the baseline's an IntSlider.
            handles = [page.locator(".rfmaps-range", has_text="kernel size").first.locator("input[type=range]"),
                       page.locator(".widget-slider", has_text="baseline kernel").first.locator(".noUi-handle")]
            # Click targets: two neurons on the explorer's feature maps, two points on the baseline's input.
            spots = [[(0.78, 0.35), (0.86, 0.5)], [(0.15, 0.4), (0.22, 0.55)]]
            unchanged = [0, 0]  # trials whose first frame left the picture as it was (should stay 0)
            for trial in range(trials):
                order = (0, 1) if trial % 2 == 0 else (1, 0)
                key = "ArrowRight" if trial % 2 == 0 else "ArrowLeft"
                for figure in order:
                    handles[figure].scroll_into_view_if_needed()
                    handles[figure].focus()
                    settle(page)
                    before = pixels(page, figure)
                    handles[figure].press(key)
                    results["slider"][("explorer", "baseline")[figure]].append(wait_frame(page, figure))
                    unchanged[figure] += pixels(page, figure) == before
                for figure in order:
                    canvas = figures.nth(figure).locator("canvas").last
                    canvas.scroll_into_view_if_needed()
                    settle(page)
                    box = canvas.bounding_box()
                    fx, fy = spots[figure][trial % 2]
                    before = pixels(page, figure)
                    page.mouse.click(box["x"] + fx * box["width"], box["y"] + fy * box["height"])
                    results["click"][("explorer", "baseline")[figure]].append(wait_frame(page, figure))
                    time.sleep(0.2)  # a blitted frame may come in two parts
                    unchanged[figure] += pixels(page, figure) == before
            browser.close()
            results["unchanged pictures"] = {"explorer": unchanged[0], "baseline": unchanged[1]}
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return results


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--trials", type=int, default=20)
    parser.add_argument("--json", help="also write the raw times (ms) to this file")
    args = parser.parse_args()
    print(f"load average before: {os.getloadavg()[0]:.2f} on {os.cpu_count()} cores")
    results = run(args.trials)
    for path, goal in (("slider", 0.8), ("click", 0.5)):
        print(f"{path}: key press -> pixels" if path == "slider" else f"{path}: mouse press -> pixels")
        explorer = summary("ConvExplorer", results[path]["explorer"])
        baseline = summary("plain ipympl figure, draw_idle", results[path]["baseline"])
        ratio = explorer / baseline
        print(f"  ratio of medians {ratio:.2f} (goal <= {goal})  {'met' if ratio <= goal else 'MISSED'}")
    print(f"trials that left a picture unchanged (should be 0): {results['unchanged pictures']}")
    print(f"load average after: {os.getloadavg()[0]:.2f}")
    if args.json:
        Path(args.json).write_text(json.dumps(results, indent=1))


if __name__ == "__main__":
    main()
