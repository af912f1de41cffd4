"""Memory of one student kernel per notebook, to size a JupyterHub.

Run:  .venv/bin/python benchmarks/kernel_memory.py [notebook ...]

Each notebook runs top to bottom in a fresh kernel of this Python (as a
student's Run All does), then every control of every explorer it made is
moved across its range, as a curious student would. The kernel reports its
own peak resident memory (``ru_maxrss``) after each step. Before the sweep each
ipympl canvas is put in the state JupyterLab puts it in when the figure shows
(see SWEEP), since nbclient has no page to show it. The baseline, in
the same run, is a kernel that only imported numpy, matplotlib and ipywidgets.
The figures are peaks, so they are what a hub's per-user memory limit must allow.
Notebooks that import torch (11 and 13 read PyTorch models when it is installed)
are also compared with a second baseline that imports torch too: torch alone
takes well over 100 MB, which no change in rfmaps can remove.
"""

import sys
from pathlib import Path

import nbformat
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
PEAK = ("import resource\n"
        "print(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024)")
BASELINE = "import numpy, matplotlib.pyplot, ipywidgets"
TORCH_BASELINE = BASELINE + "\ntry:\n    import torch\nexcept ImportError:\n    pass"
IMPORTS_TORCH = "import sys\nprint(int('torch' in sys.modules))"
# Moves every control of every explorer the notebook made through (up to 12 of) its values.
# First each ipympl canvas is told what JupyterLab tells it when the figure shows ('initialized'):
# without a page (nbclient has none) ipympl PNG-encodes every frame into the widget state instead
# of sending the frame, which a student's kernel never does (measured: 5 to 7 MiB more at the peak).
SWEEP = """
import gc
from rfmaps.widgets._base import Explorer
_changes = 0
for _explorer in [o for o in gc.get_objects() if isinstance(o, Explorer)]:
    if hasattr(_explorer.figure.canvas, "syncing_data_url"):
        _explorer.figure.canvas.syncing_data_url = False
    for _control in list(_explorer.controls.values()):
        if getattr(_control, "disabled", False):
            continue
        _start = _control.value
        if hasattr(_control, "options"):
            _values = [o[1] if isinstance(o, tuple) else o for o in _control.options]
        elif hasattr(_control, "min") and isinstance(_start, int) and not isinstance(_start, bool):
            _step = max(1, (_control.max - _control.min) // 11)
            _values = list(range(_control.min, _control.max + 1, _step))
        elif isinstance(_start, bool):
            _values = [not _start]
        else:
            continue
        for _value in _values[:12]:
            _control.value = _value
            _changes += 1
        _control.value = _start
print(_changes)
"""


def run(cells, path):
    nb = nbformat.v4.new_notebook()
    nb.cells = cells
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(path)}}).execute()
    return nb


def last_number(cell) -> int:
    return int(cell.outputs[-1]["text"].split()[-1])


def main(paths):
    print(f"{'notebook':40s} {'after Run All':>14s} {'after sweeps':>13s} {'changes':>8s}")
    nb = run([nbformat.v4.new_code_cell(BASELINE), nbformat.v4.new_code_cell(PEAK)], ROOT)
    baseline = last_number(nb.cells[-1])
    print(f"{'baseline (numpy, matplotlib, ipywidgets)':40s} {baseline:11d} MiB")
    nb = run([nbformat.v4.new_code_cell(TORCH_BASELINE), nbformat.v4.new_code_cell(PEAK)], ROOT)
    torch_baseline = last_number(nb.cells[-1])
    print(f"{'baseline with torch':40s} {torch_baseline:11d} MiB")
    peaks, torch_peaks = [], []
    for path in paths:
        cells = nbformat.read(path, as_version=4).cells
        cells = cells + [nbformat.v4.new_code_cell(PEAK), nbformat.v4.new_code_cell(SWEEP),
                         nbformat.v4.new_code_cell(PEAK), nbformat.v4.new_code_cell(IMPORTS_TORCH)]
        nb = run(cells, path.parent)
        after_run, changes, after_sweep, torch = (last_number(c) for c in nb.cells[-4:])
        (torch_peaks if torch else peaks).append((after_sweep, path.name))
        print(f"{path.name:40s} {after_run:11d} MiB {after_sweep:10d} MiB {changes:8d}"
              + ("   (imports torch)" if torch else ""))
    for group, base, which in ((peaks, baseline, "other notebooks"),
                               (torch_peaks, torch_baseline, "notebooks importing torch")):
        if group:
            peak, name = max(group)
            print(f"largest peak, {which}: {peak} MiB ({name}), {peak - base} MiB above its baseline ({base} MiB)")


if __name__ == "__main__":
    chosen = [Path(p) for p in sys.argv[1:]] or sorted((ROOT / "notebooks").glob("*.ipynb"))
    main(chosen)
