"""What users install: the sdist and the wheel, Binder's recipe, and the package they give.

The notebooks themselves run against the same installed wheel in ``test_notebooks.py``.
"""

import json
import re
import shutil
import stat
import subprocess
import tarfile
import zipfile
from email.parser import Parser
from pathlib import Path

import pytest

import installation as build

tomllib = pytest.importorskip("tomllib")  # Python >= 3.11
from packaging.requirements import Requirement  # noqa: E402

ROOT = build.ROOT
PACKAGE = ROOT / "rfmaps"
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())


def package_files():
    """Every file of the package in the working tree, relative to the repository root."""
    return sorted(str(p.relative_to(ROOT)) for p in PACKAGE.rglob("*")
                  if p.is_file() and "__pycache__" not in p.parts and p.suffix != ".pyc")


def repository() -> str:
    """``owner/name`` of the one repository setting (pyproject's Repository URL)."""
    url = PYPROJECT["project"]["urls"]["Repository"]
    match = re.fullmatch(r"https://github\.com/([\w.-]+/[\w.-]+)", url)
    assert match, f"Repository URL {url!r} is not https://github.com/owner/name"
    return match.group(1)


# --- the distributions ------------------------------------------------------------------------
def test_wheel_and_sdist_hold_every_module_and_data_file(distributions):
    files = package_files()
    assert "rfmaps/widgets/__init__.py" in files and "rfmaps/py.typed" in files
    wheel = set(build.wheel_names(distributions["wheel"]))
    assert [f for f in files if f not in wheel] == [], "missing from the wheel"
    with tarfile.open(distributions["sdist"]) as archive:
        sdist = {name.split("/", 1)[1] for name in archive.getnames() if "/" in name}
    assert [f for f in files if f not in sdist] == [], "missing from the sdist"
    assert {"LICENSE", "README.md", "pyproject.toml"} <= sdist


def test_wheel_metadata_is_complete_and_its_description_renders(distributions):
    from readme_renderer.markdown import render

    import rfmaps

    name = next(n for n in build.wheel_names(distributions["wheel"]) if n.endswith(".dist-info/METADATA"))
    with zipfile.ZipFile(distributions["wheel"]) as archive:
        metadata = Parser().parsestr(archive.read(name).decode())
    assert metadata["Version"] == rfmaps.__version__
    assert metadata["License-Expression"] == "BSD-3-Clause"
    assert metadata.get_all("License-File") == ["LICENSE"]
    classifiers = metadata.get_all("Classifier")
    assert "Framework :: Jupyter :: JupyterLab :: 4" in classifiers and "Intended Audience :: Education" in classifiers
    urls = dict(u.split(", ", 1) for u in metadata.get_all("Project-URL"))
    assert urls["Repository"] == f"https://github.com/{repository()}"
    assert metadata["Description-Content-Type"] == "text/markdown"
    description = metadata.get_payload()
    assert description.startswith("# rfmaps")
    html = render(description, variant="GFM")
    # Rendered, not returned as escaped text: the headings and the badge image survive.
    assert html and re.search(r"<h2[^>]*>Two commands", html) and '<img src="https://mybinder.org/badge' in html


# --- the installed package --------------------------------------------------------------------
def test_every_module_imports_from_the_installed_wheel(installed, tmp_path):
    expected = sorted("rfmaps" if p.stem == "__init__" and p.parent == PACKAGE else
                      ".".join(p.relative_to(ROOT).with_suffix("").parts).replace(".__init__", "")
                      for p in PACKAGE.rglob("*.py"))
    code = ("import importlib, json, pkgutil, rfmaps\n"
            "names = ['rfmaps'] + [m.name for m in pkgutil.walk_packages(rfmaps.__path__, 'rfmaps.')]\n"
            "print(json.dumps({n: importlib.import_module(n).__file__ for n in names}))\n")
    found = json.loads(build.run([installed.python, "-c", code], cwd=tmp_path, env=build.clean_env(installed.venv)))
    assert sorted(found) == expected
    site = str(installed.venv / "lib")
    assert all(path.startswith(site) for path in found.values()), found


def test_binder_postbuild_installs_the_package_and_the_lab_settings(installed):
    # postBuild ran from a copy of the repository that is gone now; pip must have recorded
    # a plain install of that folder, not an editable (development) one.
    direct = installed.postbuild_direct_url
    assert direct.get("url", "").startswith("file://") and "dir_info" in direct, direct
    assert not direct["dir_info"].get("editable", False), direct
    # The settings file sits where this JupyterLab reads its overrides.
    app_dir = build.run([installed.python, "-c", "from jupyterlab.commands import get_app_dir; print(get_app_dir())"],
                        env=build.clean_env(installed.venv)).strip()
    overrides = Path(app_dir) / "settings" / "overrides.json"
    assert json.loads(overrides.read_text()) == json.loads((ROOT / "binder" / "overrides.json").read_text())
    kernels = json.loads(overrides.read_text())["@jupyterlab/apputils-extension:kernels-settings"]
    assert kernels["commsOverSubshells"] == "disabled"


# --- Binder as repo2docker reads it ---------------------------------------------------------------
def test_binder_folder_holds_only_what_repo2docker_reads():
    # With binder/ present, repo2docker ignores every top-level environment file.
    assert {p.name for p in (ROOT / "binder").iterdir()} == {"environment.yml", "postBuild", "overrides.json"}
    mode = subprocess.run(["git", "ls-files", "-s", "binder/postBuild"], cwd=ROOT,
                          capture_output=True, text=True).stdout.split()
    if mode:  # a git checkout: the executable bit is what a clone gets
        assert mode[0] == "100755", "binder/postBuild must be committed executable"
    assert (ROOT / "binder" / "postBuild").stat().st_mode & stat.S_IXUSR
    post = (ROOT / "binder" / "postBuild").read_text()
    install = re.search(r"pip install ([^\n]*)", post).group(1).split()
    assert install[-1] == "." and "-e" not in install and "--editable" not in install


def test_binder_environment_pins_python_and_pins_every_dependency_on_pypi():
    assert (ROOT / "binder" / "environment.yml").read_bytes() == (ROOT / "environment.yml").read_bytes()
    environment = build.environment_file()
    conda = sorted(d for d in environment["dependencies"] if isinstance(d, str))
    # Conda provides only these two, in a form that cannot break (3.11 means any 3.11.x).
    assert conda == ["pip", "python=3.11"]
    pins = build.pip_pins(environment)
    ranges = {Requirement(r).name.lower(): Requirement(r).specifier for r in PYPROJECT["project"]["dependencies"]}
    assert set(pins) == set(ranges), "binder pins and pyproject dependencies name different packages"
    for name, version in pins.items():
        assert ranges[name].contains(version), f"{name}=={version} is outside pyproject's {ranges[name]}"
    # Installing them is the proof they exist: the `installed` fixture does, and the notebooks run there.


def test_launch_links_open_the_first_notebook():
    readme = (ROOT / "README.md").read_text()
    binder = re.findall(r"https://mybinder\.org/v2/gh/([^)\s]+)", readme)
    colab = re.findall(r"https://colab\.research\.google\.com/github/([^)\s]+)", readme)
    assert binder and colab
    for link in binder:
        assert link == f"{repository()}/HEAD?urlpath=lab/tree/notebooks/00_start_here.ipynb", link
    for link in colab:
        path = re.fullmatch(re.escape(repository()) + r"/blob/main/(notebooks/\S+\.ipynb)", link)
        assert path and (ROOT / path.group(1)).exists(), link
    assert (ROOT / "notebooks" / "00_start_here.ipynb").exists()


# Where the README and the notebooks repeat the repository: launch links and the install line.
REPOSITORY_MENTIONS = r"(?:mybinder\.org/v2/gh|colab\.research\.google\.com/github|git\+https://github\.com)/([\w.-]+/[\w.-]+)"


def repository_mentions(root: Path) -> dict:
    """``{file: [owner/name, ...]}`` for the README and the teaching notebooks under ``root``."""
    files = [root / "README.md", *sorted((root / "notebooks").glob("*.ipynb"))]
    return {str(p.relative_to(root)): re.findall(REPOSITORY_MENTIONS, p.read_text()) for p in files}


def test_repository_is_one_setting_that_readme_and_notebooks_repeat():
    mentions = repository_mentions(ROOT)
    assert all(mentions.values()), "every file names the repository at least once"
    assert {m for found in mentions.values() for m in found} == {repository()}, mentions


def test_make_repository_sets_it_everywhere(tmp_path):
    for name in ("Makefile", "pyproject.toml", "README.md"):
        shutil.copy(ROOT / name, tmp_path / name)
    shutil.copytree(ROOT / "notebooks", tmp_path / "notebooks")
    result = subprocess.run(["make", "-s", "repository", "REPO=ada-l/cnn.course"], cwd=tmp_path,
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr
    assert 'Repository = "https://github.com/ada-l/cnn.course"' in (tmp_path / "pyproject.toml").read_text()
    mentions = repository_mentions(tmp_path)
    assert all(mentions.values()) and {m for f in mentions.values() for m in f} == {"ada-l/cnn.course"}
    refused = subprocess.run(["make", "-s", "repository", "REPO=no-slash"], cwd=tmp_path, capture_output=True, text=True)
    assert refused.returncode != 0 and "owner/name" in refused.stdout + refused.stderr


def test_readme_hub_commands_install_the_binder_pins():
    line = re.search(r"pip install (jupyterlab==.*)", (ROOT / "README.md").read_text()).group(1)
    readme = dict(pin.split("==") for pin in line.split())
    assert readme == build.pip_pins(build.environment_file())


def test_each_teaching_notebook_installs_rfmaps_only_when_it_is_missing():
    guard = ("try:\n    import rfmaps\nexcept ImportError:",
             f'    %pip install -q "git+https://github.com/{repository()}"\n    import rfmaps\n')
    for path in sorted((ROOT / "notebooks").glob("*.ipynb")):
        nb = json.loads(path.read_text())
        first = "".join(next(c for c in nb["cells"] if c["cell_type"] == "code")["source"])
        assert first.startswith(guard[0]) and guard[1] in first, path.name
        uses_explorers = any("Explorer(" in "".join(c["source"]) for c in nb["cells"] if c["cell_type"] == "code")
        if uses_explorers:  # ipympl figures, with Colab's widget manager where needed
            assert "use_interactive_figures()" in first, path.name
