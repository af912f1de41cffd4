"""Every notebook runs top to bottom, headless, against the installed wheel, outside the source tree.

The kernel is the Python of the environment that ``installation.binder_environment``
made as Binder makes its image, and the notebooks run from a copy in a temporary
folder, so nothing can be imported from the checkout by accident.
"""

import shutil
from pathlib import Path

import nbformat
import pytest
from jupyter_client.kernelspec import KernelSpecManager
from jupyter_client.manager import KernelManager
from nbclient import NotebookClient

import installation

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "notebooks").rglob("*.ipynb"))
# Appended to each copy: where rfmaps came from, and the kernel's peak memory (KiB on Linux).
# VmHWM, not ru_maxrss: Linux carries ru_maxrss over fork and exec from the test worker.
# One print: the kernel flushes stdout on a timer, so two prints can arrive as two outputs (seen in CI).
REPORT = ("import rfmaps\n"
          "peak = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmHWM:'))\n"
          "print(rfmaps.__file__, peak)")


@pytest.fixture(scope="module")
def kernels(installed, tmp_path_factory):
    return installation.kernel_spec(installed.venv, tmp_path_factory.mktemp("kernelspec"))


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: str(p.relative_to(ROOT / "notebooks")))
def test_notebook_runs_clean_against_the_installed_wheel(path, installed, kernels, tmp_path):
    copy = tmp_path / path.relative_to(ROOT)
    shutil.copytree(path.parent, copy.parent, ignore=shutil.ignore_patterns(".ipynb_checkpoints"))
    nb = nbformat.read(copy, as_version=4)
    nb.cells.append(nbformat.v4.new_code_cell(REPORT))
    manager = KernelManager(kernel_name="rfmaps-installed",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(kernels)]))
    client = NotebookClient(nb, km=manager, timeout=300, resources={"metadata": {"path": str(copy.parent)}})
    try:
        client.execute()
    finally:  # nbclient leaves a kernel manager it was handed running
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", (
                f"cell {index}: {output.get('ename')}: {output.get('evalue')}")
            text = output.get("text", "") if output.output_type == "stream" else ""
            assert "Traceback" not in text, f"cell {index} printed a traceback"
    # The install guard of the first code cell is silent where rfmaps is installed.
    first = next(c for c in nb.cells if c.cell_type == "code")
    assert first.outputs == [], first.outputs
    report = "".join(o.get("text", "") for o in nb.cells[-1].outputs if o.get("name") == "stdout")
    module_file, peak_kib = report.split()
    assert module_file.startswith(str(installed.venv)), f"the kernel imported rfmaps from {module_file}"
    print(f"{path.name}: kernel peak memory {int(peak_kib) / 1024:.0f} MiB")


def test_00_and_the_readme_list_every_notebook_in_order_and_links_name_notebooks_that_exist():
    import json
    import re

    series = sorted(p.stem for p in (ROOT / "notebooks").glob("*.ipynb"))
    start = "".join(json.loads((ROOT / "notebooks" / "00_start_here.ipynb").read_text())["cells"][0]["source"])
    assert re.findall(r"\]\((\d\d_\w+)\.ipynb\)", start) == series
    readme = (ROOT / "README.md").read_text().split("## The notebooks", 1)[1].split("\n## ", 1)[0]
    assert re.findall(r"^\| `(\d\d_\w+)` \|", readme, flags=re.M) == series
    for number, (name, after) in enumerate(zip(series, series[1:])):
        assert name.startswith(f"{number:02d}_")
        cells = json.loads((ROOT / "notebooks" / f"{name}.ipynb").read_text())["cells"]
        text = "\n".join("".join(c["source"]) for c in cells)
        assert f"# {number:02d} " in text or number == 0, f"{name}: its title has another number"
        links = set(re.findall(r"\]\((\d\d_\w+)\.ipynb\)", text))
        assert links <= set(series), f"{name} links to a notebook that does not exist: {links - set(series)}"


def test_13_reads_the_torchvision_networks_where_torchvision_imports(tmp_path):
    """With torchvision, 13 reads its fifteen networks (or quotes each refusal) instead of the shipped ones.

    torchvision on PyPI is a CUDA build that imports on a CPU torch only after tests/torchvision_import.py
    declares two operator schemas. The notebook declares nothing (rfmaps offers no such helper): this test
    runs that helper in the kernel before the notebook, as a course whose torchvision imports would not need.
    Runs in this Python (the source tree's rfmaps), skipped where torchvision is missing.
    """
    import json
    import sys

    from torchvision_import import import_torchvision

    if import_torchvision() is None:
        pytest.skip("torchvision is not installed (not a test extra: see README, Tests)")
    from rfmaps.models import zoo

    path = ROOT / "notebooks" / "13_networks_you_use.ipynb"
    assert "torchvision_import" not in path.read_text() and "library.define" not in path.read_text()
    nb = nbformat.read(path, as_version=4)
    tests = str(Path(__file__).resolve().parent)
    nb.cells.insert(0, nbformat.v4.new_code_cell(
        f"import sys; sys.path.insert(0, {tests!r}); sys.path.insert(0, {str(ROOT)!r})\n"
        "from torchvision_import import import_torchvision\nimport_torchvision()"))
    spec = tmp_path / "kernels" / "rfmaps-here"
    spec.mkdir(parents=True)
    (spec / "kernel.json").write_text(json.dumps({
        "argv": [sys.executable, "-m", "ipykernel_launcher", "-f", "{connection_file}"],
        "display_name": "rfmaps (source tree)", "language": "python"}))
    manager = KernelManager(kernel_name="rfmaps-here",
                            kernel_spec_manager=KernelSpecManager(kernel_dirs=[str(tmp_path / "kernels")]))
    client = NotebookClient(nb, km=manager, timeout=900, resources={"metadata": {"path": str(path.parent)}})
    try:
        client.execute()
    finally:
        if manager.has_kernel:
            manager.shutdown_kernel(now=True)
    text = []
    for index, cell in enumerate(nb.cells):
        for output in cell.get("outputs", []):
            assert output.output_type != "error", f"cell {index}: {output.get('ename')}: {output.get('evalue')}"
            text.append(output.get("text", "") if output.output_type == "stream"
                        else output.get("data", {}).get("text/plain", ""))
    text = "\n".join(text)
    assert f"{len(zoo.TORCHVISION)} networks: {', '.join(zoo.TORCHVISION)}" in text
    assert "ship with rfmaps" not in text   # the fallback sentence is not printed
    # Every network is read or refused with its sentence: the summary names each one.
    summary = next(line for line in text.splitlines() if line.startswith("Read ("))
    refused = [line for line in text.splitlines() if line.startswith("Refused: ")]
    read = summary.split(": ", 1)[1].rstrip(".").split(", ") if not summary.endswith("none.") else []
    assert sorted(read + [line.split(": ", 1)[1].split(". ", 1)[0] for line in refused]) == sorted(zoo.TORCHVISION)
    # "the table above has three families with such gates, MobileNetV3, EfficientNet and RegNetY"
    gated = {line.split()[0] for line in text.splitlines()
             if line.endswith("(squeeze-and-excitation gate)") and line.split()[0] in zoo.TORCHVISION}
    assert gated == {"mobilenet_v3_large", "efficientnet_b0", "regnet_y_400mf"}, gated
    prose = " ".join(" ".join(c.source.split()) for c in nb.cells if c.cell_type == "markdown")
    assert "three families with such gates, MobileNetV3, EfficientNet and RegNetY" in prose
