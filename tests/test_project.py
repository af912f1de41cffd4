"""The project's own promises: notebooks are clean, the README's tour runs (Binder: test_installed)."""

import json
import re
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
