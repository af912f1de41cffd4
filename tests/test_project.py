"""The project's own promises: notebooks are clean, the README's tour runs (Binder: test_installed)."""

import json
import re
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_notebooks_are_committed_clean_with_a_python3_kernelspec():
    notebooks = sorted((ROOT / "notebooks").rglob("*.ipynb"))
    assert notebooks
    for path in notebooks:
        nb = json.loads(path.read_text())
        assert nb["metadata"]["kernelspec"]["name"] == "python3", path.name
        for cell in nb["cells"]:
            if cell["cell_type"] == "code":
                assert not cell["outputs"] and cell["execution_count"] is None, path.name


def test_readme_api_tour_runs_as_written(capsys):
    text = (ROOT / "README.md").read_text()
    code = re.search(r"```python\n(.*?)```", text, re.S).group(1)
    exec(compile(code, "README.md", "exec"), {})
    printed = capsys.readouterr().out
    # The comments in the tour quote these results: keep them true.
    for quoted in re.findall(r"# (\(\(?[\d, ()]+\)\)?)\s*$", code, re.M):
        assert quoted in printed, f"README says {quoted}, the code printed otherwise"


def test_import_rfmaps_builds_no_assignment_table_and_loads_no_scipy_special():
    # `import rfmaps` took 0.8 s, 0.5 s of it building rfmaps.check's variant tables and 0.2 s importing
    # scipy.special; both now wait until first used. (Time itself is measured, not asserted.)
    code = ("import sys, rfmaps; from rfmaps.check import variants; "
            "print('scipy.special' in sys.modules, variants._stacks.cache_info().currsize, "
            "variants._growing_stacks.cache_info().currsize)")
    assert subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          check=True).stdout.split() == ["False", "0", "0"]


# The folders are the package's layers, bottom up (rfmaps/__init__.py's docstring, the README's Layout).
LAYER_RANK = {"_core": 0, "layers": 1, "arithmetic": 2, "engine": 3, "check": 3, "models": 4, "drawing": 5,
              "widgets": 6}


def test_imports_point_down_the_folder_tree():
    """Every relative import inside rfmaps reaches its own folder or a lower layer, never a higher one."""
    import ast

    package = Path(__file__).resolve().parent.parent / "rfmaps"
    folders = {p.name for p in package.iterdir() if p.is_dir() and (p / "__init__.py").is_file()}
    assert folders == set(LAYER_RANK), f"a folder is missing from LAYER_RANK (or gone): {folders ^ set(LAYER_RANK)}"
    upward = []
    for path in sorted(package.rglob("*.py")):
        parts = path.relative_to(package).parts
        if len(parts) == 1:  # rfmaps/__init__.py re-exports from every layer
            continue
        here = ["rfmaps", *parts[:-1]]
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if not (isinstance(node, ast.ImportFrom) and node.level):
                continue
            target = here[: len(here) - node.level + 1] + (node.module.split(".") if node.module else [])
            tops = [target[1]] if len(target) > 1 else [alias.name for alias in node.names]
            upward += [f"{path.relative_to(package)}:{node.lineno} imports {top}" for top in tops
                       if top in LAYER_RANK and top != parts[0] and LAYER_RANK[top] >= LAYER_RANK[parts[0]]]
    assert not upward, "imports that point up the layers:\n" + "\n".join(upward)
