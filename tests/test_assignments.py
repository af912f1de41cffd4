"""The graded assignments, through nbgrader as an instructor would run it.

Generates the student versions, checks that no solution leaked into them,
then autogrades four submissions of each assignment: the instructor's
solution (full marks), an untouched student copy (no marks), a copy with one
classic mistake (marks lost on that question only), and a copy that borrows a
neighbour's student id (graded on its own numbers, so it loses marks).
"""

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
COURSE = ROOT / "notebooks" / "assignments"
NBGRADER = Path(sys.prefix) / "bin" / "nbgrader"
pytest.importorskip("nbgrader")

ASSIGNMENTS = {
    # assignment: (notebook, autograded points per test cell, the classic mistake and the cell it costs)
    "ps1": ("ps1_feature_maps", {"q1_test": 2, "q2_test": 1, "q3_test": 3},
            ('// v["stride"] + 1', '// v["stride"]'), "q1_test"),
    "ps2": ("ps2_receptive_fields", {"q1_test": 3, "q2_test": 2, "q3_test": 3},
            ("r += (layer.kernel_size[0] - 1) * j", "r += layer.kernel_size[0] - 1"), "q1_test"),
}
SOLUTION_TEXTS = ["BEGIN SOLUTION", "HIDDEN TESTS", "example-student", "np.sum(image[r:r + k]",
                  "rf_sizes, r, j = [], 1, 1", "rf 38 with 1832", "Each neuron of a deeper layer combines"]


def nbgrader(course: Path, *args: str) -> None:
    env = dict(os.environ, PATH=f"{NBGRADER.parent}{os.pathsep}{os.environ['PATH']}")  # it calls alembic
    result = subprocess.run([str(NBGRADER), *args], cwd=course, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def edited(path: Path, *replacements) -> str:
    """The notebook at ``path`` with text replaced in its cells (each replacement must apply)."""
    import nbformat

    nb = nbformat.read(path, as_version=4)
    for old, new in replacements:
        cells = [cell for cell in nb.cells if old in cell.source]
        assert cells, f"{old!r} not in {path.name}"
        for cell in cells:
            cell.source = cell.source.replace(old, new)
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def course(tmp_path_factory):
    course = tmp_path_factory.mktemp("course")
    shutil.copy(COURSE / "nbgrader_config.py", course)
    shutil.copytree(COURSE / "source", course / "source")
    for assignment, (notebook, _, (wrong, right), _) in ASSIGNMENTS.items():
        nbgrader(course, "generate_assignment", assignment, "--force")
        source = course / "source" / assignment / f"{notebook}.ipynb"
        released = course / "release" / assignment / f"{notebook}.ipynb"
        submissions = {
            "example-student": source.read_text(),
            "untouched": released.read_text(),
            "mistake": edited(source, ('"example-student"', '"mistake"'), (wrong, right)),
            "copier": source.read_text(),  # a neighbour's id and answers
        }
        for student, text in submissions.items():
            folder = course / "submitted" / student / assignment
            folder.mkdir(parents=True)
            (folder / f"{notebook}.ipynb").write_text(text)
        nbgrader(course, "autograde", assignment, "--force")
    return course


def scores(course: Path, assignment: str, student: str) -> dict:
    from nbgrader.api import Gradebook

    notebook, points, _, _ = ASSIGNMENTS[assignment]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {cell: gradebook.find_grade(cell, notebook, assignment, student).auto_score for cell in points}


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_student_version_leaks_no_solution(course, assignment):
    notebook = ASSIGNMENTS[assignment][0]
    text = (course / "release" / assignment / f"{notebook}.ipynb").read_text()
    for secret in SOLUTION_TEXTS:
        assert secret not in text
    cells = json.loads(text)["cells"]
    assert any("raise NotImplementedError()" in "".join(c["source"]) for c in cells)


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_autograding(course, assignment):
    _, points, _, mistaken_cell = ASSIGNMENTS[assignment]
    assert scores(course, assignment, "example-student") == points  # full marks
    assert sum(scores(course, assignment, "untouched").values()) == 0
    expected = dict(points, **{mistaken_cell: 0})  # marks lost on that question only
    assert scores(course, assignment, "mistake") == expected
    assert sum(scores(course, assignment, "copier").values()) < sum(points.values())
