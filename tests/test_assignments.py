"""The whole course cycle of the three assignments, through nbgrader and a local exchange directory.

The instructor generates and releases each assignment; five students fetch it, work and submit:
``alice`` with the instructor's solution, ``bob`` with one classic mistake, ``carol`` untouched,
``dave`` who hands in alice's notebook, id included, ``eve`` who answers with library calls only
(and "blah" reasons): she gets at most half the automatic points, and ``frank``, eve who hides the package
in a dict inside her functions (the checks watch what runs, so he gets no more than she does). The instructor collects, autogrades, generates and
releases feedback; the students fetch it. The test checks the grades in the gradebook, that each
student's feedback file arrived, and what the feedback says.
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
STEPS = Path(__file__).with_name("nbgrader_steps.py")
pytest.importorskip("nbgrader")

ASSIGNMENTS = {
    # assignment: (notebook, autograded points per test cell, the classic mistake and the cell it costs,
    #              what bob's feedback then says)
    "ps1": ("ps1_feature_maps", {"setup": 0, "q1_test": 1, "q2_test": 1, "q3_test": 1, "q3_by_hand": 2,
                                 "q4_test": 1, "q5_test": 4},
            ('// v["stride"] + 1', '// v["stride"]'), "q1_test", "you forgot the + 1"),
    "ps2": ("ps2_receptive_fields", {"setup": 0, "q1_test": 1, "q2_test": 1, "q3_test": 2, "q4_test": 1,
                                     "q5_test": 1, "q6_test": 6},
            ("r += (layer.kernel_size[0] - 1) * j", "r += layer.kernel_size[0] - 1"), "q1_test",
            "without multiplying by the jump"),
    "ps3": ("ps3_growing_maps", {"setup": 0, "q1_test": 1, "q2_test": 1, "q3_test": 1, "q4_test": 1, "q5_test": 2,
                                 "q6_test": 6},
            ('+ t["output_padding"] + 1', "+ 1"), "q1_test", "you left out output_padding"),
}
# Reasons of multiple-choice questions and the written questions: graded by hand (the TA guide's rubric).
HAND_GRADED = {"ps1": ("ps1_feature_maps", {"q4_reason": 1}),
               "ps2": ("ps2_receptive_fields", {"q4_reason": 1, "q5_reason": 1, "q7_answer": 2}),
               "ps3": ("ps3_growing_maps", {"q4_reason": 1, "q7_answer": 2})}
# The answers dave copies as values (a copier copies numbers and letters, not the code that made them).
COPIED = {"ps1": {"q1_answer": ["out_size"], "q2_answer": ["n_maps"], "q4_answer": ["q4_choice"],
                  "q4_reason": ["q4_reason"]},
          "ps2": {"q1_answer": ["rf_sizes"], "q2_answer": ["region"], "q4_answer": ["q4_choice"],
                  "q4_reason": ["q4_reason"], "q5_answer": ["q5_choice"], "q5_reason": ["q5_reason"]},
          "ps3": {"q1_answer": ["out_size"], "q2_answer": ["field"], "q3_answer": ["standard", "separable"],
                  "q4_answer": ["q4_choice"], "q4_reason": ["q4_reason"]}}
# eve calls the library wherever she can: layer.output_size, out_channels, a one-line feature_maps,
# receptive_fields, input_region, projective_field, count_parameters, the package's layers inside the
# formula functions, and "blah" reasons. She makes the designs and picks the right letters (worst case).
BLAH = '"blah blah blah blah blah blah blah blah"'
LIBRARY_ONLY = {
    "ps1": {"q1_answer": 'out_size = layer.output_size(v["image_size"])[0]',
            "q2_answer": "n_maps = layer.out_channels",
            "q3_answer": "def one_feature_map(image, kernel):\n"
                         "    return rfmaps.feature_maps([Conv2d(1, 1, kernel.shape[0], weight=kernel[None, None])],"
                         " image)[0][0]",
            "q4_reason": f"q4_reason = {BLAH}",
            "q5_answer": "def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):\n"
                         "    return Conv2d(1, 1, kernel_size, stride=stride, padding=padding,"
                         " dilation=dilation).output_size(n)[0]"},
    "ps2": {"q1_answer": "rf_sizes = [row.rf_size[0] for row in rfmaps.receptive_fields(layers, 64)]",
            "q2_answer": 'region = rfmaps.input_region(layers, v["neuron"], 64)',
            "q4_reason": f"q4_reason = {BLAH}", "q5_reason": f"q5_reason = {BLAH}",
            "q6_answer": "def rf_size_and_jump(layers):\n"
                         "    row = rfmaps.receptive_fields([Conv2d(1, 1, k, stride=s, dilation=d)"
                         " for k, s, d in layers], 4096)[-1]\n"
                         "    return row.rf_size[0], int(row.jump[0])",
            "q7_answer": BLAH},
    "ps3": {"q1_answer": "out_size = up.output_size(n)[0]",
            "q2_answer": 'field = rfmaps.projective_field(layers, v["pixel"], 16)',
            "q3_answer": "standard = check.count_parameters(standard_conv)\n"
                         "separable = check.count_parameters(separable_conv)",
            "q4_reason": f"q4_reason = {BLAH}",
            "q6_answer": "def transposed_output_size(n, kernel_size, stride=1, padding=0, output_padding=0,"
                         " dilation=1):\n"
                         "    return ConvTranspose2d(1, 1, kernel_size, stride=stride, padding=padding,"
                         " output_padding=output_padding, dilation=dilation).output_size(n)[0]",
            "q7_answer": BLAH},
}
# frank is eve hiding the package in a dict, which reading the code alone does not see.
HIDDEN_IN_A_DICT = {
    "ps1": {"q3_answer": 'TOOLS = {"maps": rfmaps.feature_maps, "conv": Conv2d}\n'
                         "def one_feature_map(image, kernel):\n"
                         '    return TOOLS["maps"]([TOOLS["conv"](1, 1, kernel.shape[0], weight=kernel[None, None])],'
                         " image)[0][0]",
            "q5_answer": 'TOOLS = {"maps": rfmaps.feature_maps, "conv": Conv2d}\n'
                         "def conv_output_size(n, kernel_size, stride=1, padding=0, dilation=1):\n"
                         '    return TOOLS["conv"](1, 1, kernel_size, stride=stride, padding=padding,'
                         " dilation=dilation).output_size(n)[0]"},
    "ps2": {"q6_answer": 'TOOLS = [rfmaps.receptive_fields, Conv2d]\n'
                         "def rf_size_and_jump(layers):\n"
                         "    row = TOOLS[0]([TOOLS[1](1, 1, k, stride=s, dilation=d)"
                         " for k, s, d in layers], 4096)[-1]\n"
                         "    return row.rf_size[0], int(row.jump[0])"},
    "ps3": {"q6_answer": 'TOOLS = {"up": ConvTranspose2d}\n'
                         "def transposed_output_size(n, kernel_size, stride=1, padding=0, output_padding=0,"
                         " dilation=1):\n"
                         '    return TOOLS["up"](1, 1, kernel_size, stride=stride, padding=padding,'
                         " output_padding=output_padding, dilation=dilation).output_size(n)[0]"},
}
# The cells a library one-liner cannot earn: functions the hidden tests run and read, and find using the package.
BY_HAND = {"ps1": {"q3_test", "q3_by_hand", "q5_test"}, "ps2": {"q6_test"}, "ps3": {"q6_test"}}
STUDENTS = ["alice", "bob", "carol", "dave", "eve", "frank"]
SOLUTION_TEXTS = ["BEGIN SOLUTION", "HIDDEN TESTS", "example-student", "np.sum(image[r:r + k]",
                  "rf_sizes, r, j = [], 1, 1", "dilation=8", "Each neuron of a deeper layer combines",
                  "grade_choice", "Q4_OPTIONS[2]", "Q4_OPTIONS[3]", "Q5_OPTIONS[2]", "right=Q4_OPTIONS[0]",
                  "def reached(low, high, layer, n)", "c_in * (k * k + 1)", "Upsample(2), Conv2d(16, 8, 3",
                  "only for the taps *t* where that is a whole number", "grade_by_hand", "grade_feature_map_function", "grade_conv_size_function",
                  "grade_rf_function", "grade_transposed_size_function", "- 1) // stride + 1", "jump *= stride",
                  "(kernel_size - 1) + output_padding + 1"]


def nbgrader(steps, tmp: Path) -> None:
    """Run ``steps``, each ``(cwd, home, *args)`` as ``cd cwd; HOME=home nbgrader args...``, in order.

    They run in one process (tests/nbgrader_steps.py): nbgrader's start-up costs 2.5 s a command.
    """
    # nbgrader calls alembic from PATH; HOME keeps a user's own Jupyter configuration out of the test.
    env = dict(os.environ, PATH=f"{NBGRADER.parent}{os.pathsep}{os.environ['PATH']}")
    env.pop("JUPYTERHUB_USER", None)
    plan = tmp / f"steps-{len(list(tmp.glob('steps-*.json')))}.json"
    plan.write_text(json.dumps([{"cwd": str(cwd), "home": str(home), "args": list(args)}
                                for cwd, home, *args in steps]))
    result = subprocess.run([sys.executable, str(STEPS), str(plan)], env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


def answers_of(source: Path, student_id: str, cells: dict) -> dict:
    """{grade_id: source} assigning, as values, what the instructor's solution gives ``student_id``."""
    import contextlib
    import io

    import nbformat
    from rfmaps.check import ids

    namespace, real = {}, ids.graded_student
    ids.graded_student = lambda: student_id  # as nbgrader's autograder would for this student
    try:
        with contextlib.redirect_stdout(io.StringIO()):
            for cell in nbformat.read(source, as_version=4).cells:
                if cell.cell_type == "code":
                    exec(cell.source, namespace)
    finally:
        ids.graded_student = real
    return {grade_id: "\n".join(f"{name} = {namespace[name]!r}" for name in names)
            for grade_id, names in cells.items()}


def worked(released: Path, source: Path, student_id: str, *replacements, answers=None) -> str:
    """The released notebook with the instructor's answers (text replaced) and ``student_id`` typed."""
    import nbformat

    solutions = {cell.metadata["nbgrader"]["grade_id"]: cell.source
                 for cell in nbformat.read(source, as_version=4).cells
                 if cell.metadata.get("nbgrader", {}).get("solution")}
    solutions.update(answers or {})
    nb = nbformat.read(released, as_version=4)
    for cell in nb.cells:
        grade_id = cell.metadata.get("nbgrader", {}).get("grade_id")
        if grade_id in solutions:
            cell.source = solutions[grade_id]
        if cell.source.startswith('STUDENT_ID = ""'):
            cell.source = cell.source.replace('STUDENT_ID = ""', f"STUDENT_ID = {student_id!r}", 1)
        for old, new in replacements:
            if old in cell.source:
                cell.source = cell.source.replace(old, new)
                replacements = [r for r in replacements if r[0] != old]
    assert not replacements, f"{replacements} not in {released.name}"
    return nbformat.writes(nb)


@pytest.fixture(scope="module")
def cycle(tmp_path_factory):
    root = tmp_path_factory.mktemp("cycle")
    course, exchange, instructor = root / "course", root / "exchange", root / "instructor-home"
    instructor.mkdir()
    exchange.mkdir(mode=0o777)
    exchange.chmod(0o777)
    course.mkdir()
    shutil.copytree(COURSE / "source", course / "source")
    (course / "nbgrader_config.py").write_text(
        (COURSE / "nbgrader_config.py").read_text() + f"\nc.Exchange.root = {str(exchange)!r}\n")
    student_flags = ["--course=rfmaps", f"--Exchange.root={exchange}"]
    homes = {name: root / name for name in STUDENTS}
    for home in homes.values():
        home.mkdir()

    assignments = sorted(ASSIGNMENTS)
    # The course in five steps, each a batch of nbgrader commands: the instructor releases every
    # assignment, every student fetches them, works and submits, the instructor grades and returns
    # feedback, the students fetch it.
    nbgrader([(course, instructor, command, assignment, "--force") for assignment in assignments
              for command in ("generate_assignment", "release_assignment")], root)
    nbgrader([(home, home, "fetch_assignment", assignment, *student_flags)
              for assignment in assignments for home in homes.values()], root)
    for assignment, (notebook, _, mistake, _, _) in ASSIGNMENTS.items():
        source = course / "source" / assignment / f"{notebook}.ipynb"
        fetched = {name: homes[name] / assignment / f"{notebook}.ipynb" for name in STUDENTS}
        alice = worked(fetched["alice"], source, "alice")
        fetched["alice"].write_text(alice)
        fetched["bob"].write_text(worked(fetched["bob"], source, "bob", mistake))
        # The neighbour's notebook, her id included, with her numbers written out.
        fetched["dave"].write_text(worked(fetched["dave"], source, "alice",
                                          answers=answers_of(source, "alice", COPIED[assignment])))
        fetched["eve"].write_text(worked(fetched["eve"], source, "eve", answers=LIBRARY_ONLY[assignment]))
        fetched["frank"].write_text(worked(fetched["frank"], source, "frank",
                                           answers=dict(LIBRARY_ONLY[assignment], **HIDDEN_IN_A_DICT[assignment])))
    nbgrader([(home, home, "submit", assignment, *student_flags, f"--student={name}")
              for assignment in assignments for name, home in homes.items()], root)
    nbgrader([(course, instructor, *command) for assignment in assignments
              for command in (("collect", assignment), ("autograde", assignment, "--force"),
                              ("generate_feedback", assignment, "--force"), ("release_feedback", assignment))],
             root)
    nbgrader([(home, home, "fetch_feedback", assignment, *student_flags, f"--student={name}")
              for assignment in assignments for name, home in homes.items()], root)
    return course, homes


def scores(course: Path, assignment: str, student: str) -> dict:
    from nbgrader.api import Gradebook

    notebook, points = ASSIGNMENTS[assignment][:2]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        return {cell: gradebook.find_grade(cell, notebook, assignment, student).auto_score for cell in points}


def feedback(homes: dict, assignment: str, student: str) -> str:
    """The text of a student's fetched feedback (HTML tags removed)."""
    import html
    import re

    notebook = ASSIGNMENTS[assignment][0]
    files = list((homes[student] / assignment / "feedback").glob(f"*/{notebook}.html"))
    assert len(files) == 1, f"{student} has no feedback for {assignment}"
    return html.unescape(re.sub(r"<[^>]+>", "", files[0].read_text()))


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_student_version_tells_where_the_id_goes_and_leaks_no_solution(cycle, assignment):
    course, homes = cycle
    notebook = ASSIGNMENTS[assignment][0]
    text = (course / "release" / assignment / f"{notebook}.ipynb").read_text()
    for secret in SOLUTION_TEXTS:
        assert secret not in text
    sources = ["".join(c["source"]) for c in json.loads(text)["cells"]]
    assert any(s.startswith('STUDENT_ID = ""  # ← your id between the quotes') for s in sources)
    assert any("leave the quotes empty" in s and "hub user name" in s for s in sources)
    assert sum("raise NotImplementedError()" in s for s in sources) >= 4


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_grades_after_the_cycle(cycle, assignment):
    course, _ = cycle
    _, points, _, mistaken_cell, _ = ASSIGNMENTS[assignment]
    assert scores(course, assignment, "alice") == points  # full automatic marks
    assert scores(course, assignment, "bob") == dict(points, **{mistaken_cell: 0})  # that question only
    assert sum(scores(course, assignment, "carol").values()) == 0
    assert sum(scores(course, assignment, "eve").values()) <= sum(points.values()) / 2
    assert sum(scores(course, assignment, "frank").values()) <= sum(points.values()) / 2
    dave = scores(course, assignment, "dave")
    assert dave["q1_test"] == dave["q2_test"] == 0  # graded on his own numbers
    assert sum(scores(course, assignment, "dave").values()) < sum(points.values())


@pytest.mark.parametrize("assignment", sorted(HAND_GRADED))
def test_hand_graded_question_waits_for_the_grader(cycle, assignment):
    from nbgrader.api import Gradebook

    course, _ = cycle
    notebook, cells = HAND_GRADED[assignment]
    with Gradebook(f"sqlite:///{course / 'gradebook.db'}") as gradebook:
        for cell, points in cells.items():
            grade = gradebook.find_grade(cell, notebook, assignment, "alice")
            assert grade.max_score == points and grade.needs_manual_grade


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_each_student_fetched_feedback_that_names_what_went_wrong(cycle, assignment):
    course, homes = cycle
    hint = ASSIGNMENTS[assignment][4]
    for name in STUDENTS:
        assert "Assignment" in feedback(homes, assignment, name)
    assert hint in feedback(homes, assignment, "bob")
    assert "NotImplementedError" in feedback(homes, assignment, "carol")
    # dave typed alice's id: his feedback says whose numbers were graded.
    assert "You typed the id 'alice', but the name this submission was collected under is 'dave'" in \
        feedback(homes, assignment, "dave")


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_library_calls_alone_earn_at_most_half_the_automatic_points(cycle, assignment):
    """eve answers every value with a library call, writes the functions with the package and "blah" reasons."""
    course, homes = cycle
    points = ASSIGNMENTS[assignment][1]
    for name in ("eve", "frank"):
        eve = scores(course, assignment, name)
        # Library calls give right values (those cells score), the functions written with the package nothing.
        assert {cell for cell, score in eve.items() if score != points[cell]} == BY_HAND[assignment], name
        assert all(eve[cell] == 0 for cell in BY_HAND[assignment])
        assert sum(eve.values()) <= sum(points.values()) / 2, (name, eve, points)
        assert "uses the package" in feedback(homes, assignment, name)


@pytest.mark.parametrize("assignment", sorted(ASSIGNMENTS))
def test_the_points_the_headings_announce_are_the_points_of_the_cells(cycle, assignment):
    """The headings say how many points each question gives: autograded and hand-graded cells add up to them."""
    import re

    course, _ = cycle
    notebook, points = ASSIGNMENTS[assignment][:2]
    text = (course / "release" / assignment / f"{notebook}.ipynb").read_text()
    announced = sum(int(n) for n in re.findall(r"## Question \d+ \((\d+) points?", text))
    hand = sum(HAND_GRADED[assignment][1].values())
    assert announced == sum(points.values()) + hand
