"""The project's own promises: environments agree, notebooks are clean."""

import json
import re
import pytest

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
from pathlib import Path

from packaging.requirements import Requirement

ROOT = Path(__file__).resolve().parents[1]


def conda_pins(path):
    """{name: version} from the dependency list of a conda environment file."""
    pins = {}
    for line in path.read_text().splitlines():
        match = re.fullmatch(r"\s*-\s*([A-Za-z0-9_.-]+)(?:=([^\s#]+))?\s*(#.*)?", line)
        if match and match.group(1) not in {"conda-forge"}:
            pins[match.group(1)] = match.group(2)
    return pins


def test_binder_environment_is_the_top_level_one():
    assert (ROOT / "binder" / "environment.yml").read_bytes() == (ROOT / "environment.yml").read_bytes()


def test_environment_pins_satisfy_pyproject_ranges():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    ranges = {Requirement(r).name: Requirement(r).specifier for r in project["dependencies"]}
    pins = conda_pins(ROOT / "environment.yml")
    assert pins.pop("python", None), "pin python for Binder"
    pins.pop("pip", None)
    assert set(pins) == set(ranges), "environment.yml and pyproject.toml list different packages"
    for name, version in pins.items():
        assert version, f"{name} is not pinned in environment.yml"
        assert ranges[name].contains(version), f"{name}={version} is outside pyproject's {ranges[name]}"


def test_binder_postbuild_installs_the_package_and_the_lab_settings():
    post = (ROOT / "binder" / "postBuild").read_text()
    assert "pip install" in post and "overrides.json" in post
    settings = json.loads((ROOT / "binder" / "overrides.json").read_text())
    kernels = settings["@jupyterlab/apputils-extension:kernels-settings"]
    assert kernels["commsOverSubshells"] == "disabled"


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
