"""Every student id gets a solvable variant, on which the reference solution earns every mark.

The variant's numbers are checked on their own for 10,000 generated ids (and the ids
students are known to type: "s00000", "Ada.Lovelace", "jdoe42"): valid layers, a
neuron that exists, a design target the rules can reach, and trivial designs that
the rules refuse.

For the first 2,000 of those ids, each assignment's code cells run as nbgrader's
autograder runs them: the id comes from the submission, the instructor's solution
cells fill the answers, and the test cells run with their hidden tests. Every visible
check and every hidden assert must pass. A variant is drawn from short lists of
values, so 2,000 ids are enough to reach every value of every number, and every
combination that decides ps1's output size: a test checks that they reach all that
the 10,000 reach (running the notebooks for all 10,000 took 85 s more).
"""

import contextlib
import io
import math
import random
import string
from pathlib import Path

import nbformat
import pytest

from rfmaps import (Conv2d, ConvTranspose2d, MaxPool2d, ReLU, Upsample, check, input_region, projective_field,
                    receptive_fields)
from rfmaps.check import ids, variants

ROOT = Path(__file__).resolve().parents[1]
SOURCE = ROOT / "notebooks" / "assignments" / "source"
NOTEBOOKS = {"ps1": SOURCE / "ps1" / "ps1_feature_maps.ipynb", "ps2": SOURCE / "ps2" / "ps2_receptive_fields.ipynb",
             "ps3": SOURCE / "ps3" / "ps3_growing_maps.ipynb"}
# The function that draws each assignment's numbers (the notebook's ``v``).
VARIANTS = {"ps1": check.variant, "ps2": check.variant, "ps3": check.growing_variant}
# Cells that use no per-student number: run once, not once per id (q3 of ps1 loops over an image; the
# formula questions try the function on hundreds of inputs against PyTorch).
SAME_FOR_ALL = {"ps1": {"q3_answer", "q3_test", "q3_by_hand", "q5_answer", "q5_test"},
                "ps2": {"q6_answer", "q6_test"}, "ps3": {"q6_answer", "q6_test"}}
KNOWN_IDS = ["s00000", "Ada.Lovelace", "jdoe42", "example-student"]
COUNT = 10_000
SOLVED = 2_000  # ids whose notebooks run (see the module docstring)


def generated_ids(count: int) -> list:
    """``count`` distinct ids in the shapes courses use: numbers, first.last, logins, e-mails, odd text."""
    rng = random.Random(15)
    first = ["ada", "alan", "grace", "Zoë", "José", "Łukasz", "mei", "O'Neil", "anne-marie", "kofi"]
    last = ["Lovelace", "Turing", "Hopper", "Müller", "García", "Nakamura", "Ó Briain", "smith", "Ngata"]
    shapes = [
        lambda: f"s{rng.randrange(100000):05d}",
        lambda: f"{rng.choice(first)}.{rng.choice(last)}",
        lambda: f"{rng.choice(first)[0]}{rng.choice(last)}{rng.randrange(100)}".lower(),
        lambda: f"{rng.choice(first)}.{rng.choice(last)}@uni.example".lower(),
        lambda: "".join(rng.choice(string.ascii_letters + string.digits + "._- ") for _ in range(rng.randrange(1, 20))),
        lambda: "".join(chr(rng.randrange(0x20, 0x2FFF)) for _ in range(rng.randrange(1, 12))),
        lambda: str(rng.randrange(10 ** 9)),
    ]
    ids = dict.fromkeys(KNOWN_IDS)
    while len(ids) < count:
        candidate = rng.choice(shapes)()
        if candidate.strip():
            ids[candidate] = None
    return list(ids)


IDS = generated_ids(COUNT)


def code_cells(path: Path, *replacements) -> list:
    """(grade_id or None, compiled source) of every code cell, in order, with text replaced."""
    nb = nbformat.read(path, as_version=4)
    cells, unused = [], dict(replacements)
    for i, cell in enumerate(nb.cells):
        if cell.cell_type == "code":
            source = cell.source
            for old, new in replacements:
                if old in source:
                    source = source.replace(old, new)
                    unused.pop(old, None)
            cells.append((cell.metadata.get("nbgrader", {}).get("grade_id"),
                          compile(source, f"{path.name}[{i}]", "exec")))
    assert not unused, f"not in {path.name}: {list(unused)}"
    return cells


@pytest.fixture
def autograde(monkeypatch):
    """Run compiled cells as nbgrader's autograder would for one id; return {grade_id: error} of failed cells.

    As nbgrader does, a failing cell does not stop the cells after it.
    """
    graded = {"id": None}
    monkeypatch.setattr(ids, "graded_student", lambda: graded["id"])  # the id nbgrader files it under
    monkeypatch.delenv("JUPYTERHUB_USER", raising=False)

    def run(cells, student_id, skip=()):
        graded["id"] = student_id
        namespace, failed = {}, {}
        with contextlib.redirect_stdout(io.StringIO()):
            for grade_id, compiled in cells:
                if grade_id in skip:
                    continue
                try:
                    exec(compiled, namespace)
                except Exception as error:  # noqa: BLE001 (as the autograder: note it, run on)
                    failed[grade_id] = f"{type(error).__name__}: {error}"
        return namespace, failed
    return run


def test_the_generated_ids_are_many_and_varied():
    assert len(set(IDS)) >= 10_000
    assert {"s00000", "Ada.Lovelace", "jdoe42"} <= set(IDS)
    # They reach every choice the generator has (here: every candidate stack of question 1 of ps2).
    assert {tuple(map(tuple, check.variant(i)["stack"])) for i in IDS} == set(variants._stacks())
    # ... and every stack of the projective-field question of ps3.
    assert {tuple(check.growing_variant(i)["stack"]) for i in IDS} == set(variants._growing_stacks())


def _drawn_values(v: dict, prefix: str = "") -> set:
    """Every (field, value) of a variant, nested fields flattened ("transposed.stride", 3)."""
    values = set()
    for name, value in v.items():
        if isinstance(value, dict):
            values |= _drawn_values(value, f"{prefix}{name}.")
        else:
            values.add((prefix + name, repr(value)))
    return values


@pytest.mark.parametrize("assignment", sorted(NOTEBOOKS))
def test_the_ids_whose_notebooks_run_reach_every_value_the_10000_reach(assignment):
    draw = VARIANTS[assignment]
    # Neurons and pixels are drawn within each stack's own range (the checks below prove they exist);
    # every other number is compared value by value.
    positions = {"neuron", "pixel"}
    reach = lambda ids: set().union(*({(f, x) for f, x in _drawn_values(draw(i)) if f not in positions}  # noqa
                                     for i in ids))
    assert reach(IDS[:SOLVED]) == reach(IDS)
    if assignment == "ps1":  # the numbers that decide the output size, in every combination
        decide = lambda ids: {tuple(draw(i)[f] for f in ("image_size", "kernel_size", "stride", "padding"))  # noqa
                              for i in ids}
        assert decide(IDS[:SOLVED]) == decide(IDS)


@pytest.mark.parametrize("assignment", sorted(NOTEBOOKS))
def test_reference_solution_earns_every_autograded_mark_for_2000_ids(assignment, autograde):
    cells = code_cells(NOTEBOOKS[assignment])
    once = SAME_FOR_ALL.get(assignment, set())
    assert once <= {grade_id for grade_id, _ in cells}
    failures = {}
    for n, student_id in enumerate(IDS[:SOLVED]):
        namespace, failed = autograde(cells, student_id, skip=once if n else ())
        if failed:
            failures[student_id] = failed
        # The graded numbers are the id's own, not the instructor's example.
        assert namespace["v"] == VARIANTS[assignment](student_id)
    assert not failures, f"{len(failures)} ids fail, e.g. {list(failures.items())[:3]}"


@pytest.mark.parametrize("assignment, mistake, cell", [
    ("ps1", ('// v["stride"] + 1', '// v["stride"]'), "q1_test"),
    ("ps2", ("r += (layer.kernel_size[0] - 1) * j", "r += layer.kernel_size[0] - 1"), "q1_test"),
    ("ps2", ("option == Q4_OPTIONS[3]", "option == Q4_OPTIONS[0]"), "q4_test"),
    ("ps2", ("dilation=8", "dilation=16"), "q3_test"),  # holes in the receptive field
    ("ps3", ('+ t["output_padding"] + 1', "+ 1"), "q1_test"),
    ("ps3", ("standard = c_out * (c_in * k * k + 1)", "standard = c_out * c_in * k * k"), "q3_test"),  # no biases
    ("ps3", ("separable = c_in * (k * k + 1) + c_out * (c_in + 1)",  # the depthwise layer counted as a full one
             "separable = c_in * (c_in * k * k + 1) + c_out * (c_in + 1)"), "q3_test"),
    ("ps3", ("option == Q4_OPTIONS[0]", "option == Q4_OPTIONS[2]"), "q4_test"),
    ("ps3", ("decoder = [Upsample(2), Conv2d(16, 8, 3, padding=1), ReLU(), Upsample(2),",  # a checkerboard
             "decoder = [ConvTranspose2d(16, 8, 3, stride=2, padding=1, output_padding=1), ReLU(), Upsample(2),"),
     "q5_test"),
    ("ps3", ("max(s * low - p, 0), min(s * high - p + k - 1, out - 1), out",  # the field of the strided conv,
             "max(s * low - p, 0), min(s * high - p + k - 1, out - 1), out\n"  # read as a receptive field
             "    if s > 1:\n        return max(s * low - p, 0), min(s * high - p + k - 1, out - 1), out"), "q2_test"),
])
def test_a_classic_mistake_costs_its_question_only_for_300_ids(assignment, mistake, cell, autograde):
    cells = code_cells(NOTEBOOKS[assignment], mistake)
    for student_id in IDS[:300]:
        _, failed = autograde(cells, student_id, skip=SAME_FOR_ALL.get(assignment, ()))
        assert set(failed) == {cell}, (student_id, failed)


@pytest.mark.parametrize("assignment, forms", [
    ("ps1", [('// v["stride"] + 1', '// v["stride"] + 1.0'), ('n_maps = v["kernels"]', 'n_maps = np.int64(v["kernels"])')]),
    ("ps1", [('// v["stride"] + 1', '// v["stride"] + np.int32(1)'), ('n_maps = v["kernels"]', 'n_maps = float(v["kernels"])')]),
    ("ps2", [("rf_sizes.append(r)", "rf_sizes.append(float(r))"),
             ("region = tuple((f, f + rf - 1) for f in first)", "region = [[f, f + rf - 1] for f in first]")]),
    ("ps3", [("+ t[\"output_padding\"] + 1\n", "+ t[\"output_padding\"] + 1.0\n"),
             ("field = tuple(field)", "field = [list(bounds) for bounds in field]"),
             ("separable = c_in", "import numpy as np\nseparable = np.int64(c_in)")]),
    ("ps3", [("field = tuple(field)", "import numpy as np\nfield = np.array(field)"),
             ("standard = c_out * (c_in * k * k + 1)", "standard = float(c_out * (c_in * k * k + 1))"),
             ("option == Q4_OPTIONS[0])", "option == Q4_OPTIONS[0]).upper()")]),
    ("ps2", [("    rf_sizes.append(r)", "    rf_sizes.append(r)\nimport numpy as np\nrf_sizes = np.array(rf_sizes)"),
             ("region = tuple((f, f + rf - 1) for f in first)", "region = np.array([[f, f + rf - 1] for f in first])"),
             ("option == Q4_OPTIONS[3])", "option == Q4_OPTIONS[3]).upper()")]),
])
def test_right_answers_in_any_natural_form_earn_every_mark(assignment, forms, autograde):
    cells = code_cells(NOTEBOOKS[assignment], *forms)
    for student_id in IDS[:300]:
        _, failed = autograde(cells, student_id, skip=SAME_FOR_ALL.get(assignment, ()))
        assert not failed, (student_id, failed)


def reference_design():
    return [Conv2d(1, 8, 3), ReLU(), Conv2d(8, 8, 3, dilation=2), ReLU(), Conv2d(8, 8, 3, dilation=4), ReLU(),
            Conv2d(8, 8, 3, dilation=8)]


def trivial_designs(target: int) -> dict:
    """Answers the rules must refuse: each reaches ``target`` by a way around the question."""
    plain = [Conv2d(1, 8, 3)]
    while receptive_fields(plain, 64)[-1].rf_size[0] < target:
        plain += [ReLU(), Conv2d(8, 8, 3)]
    big = math.ceil((target + 2) / 3)
    return {
        "one large convolution": [Conv2d(1, 8, target)],
        "pooling only": [MaxPool2d(target)],
        "a plain 3 x 3 stack": plain,
        "three large kernels": [Conv2d(1, 8, big), Conv2d(8, 8, big), Conv2d(8, 8, big)],
        "one kernel per layer": [Conv2d(1, 1, big), Conv2d(1, 1, big), Conv2d(1, 1, big)],
        "an overlapping pool does the work": [Conv2d(1, 8, 3), Conv2d(8, 8, 3), Conv2d(8, 8, 3),
                                              MaxPool2d(target - 6, stride=1)],
        "one dilation with holes": [Conv2d(1, 8, 3, dilation=math.ceil((target - 5) / 2)), Conv2d(8, 8, 3),
                                    Conv2d(8, 8, 3)],
        "stride everywhere": [Conv2d(1, 8, 3, stride=2), Conv2d(8, 8, 3, stride=2), Conv2d(8, 8, 3, stride=2),
                              Conv2d(8, 8, 3)],
    }


def test_every_variant_has_valid_numbers_an_existing_neuron_and_a_binding_design_question():
    combos = set()
    for student_id in IDS:
        v = check.variant(student_id)
        layer = check.variant_layer(v)
        assert layer.output_size(v["image_size"])[0] >= 1
        stack = check.variant_stack(v)
        last = receptive_fields(stack, 64)[-1].output_size
        assert all(0 <= p < n for p, n in zip(v["neuron"], last)), (student_id, v)
        assert input_region(stack, v["neuron"], 64) is not None
        combos.add((v["target_rf"], v["budget"], v["min_output"]))
    with contextlib.redirect_stdout(io.StringIO()) as said:
        for target, budget, min_output in sorted(combos):
            assert check.check_design(reference_design(), target, budget, min_output=min_output)
            for name, design in trivial_designs(target).items():
                assert not check.check_design(design, target, budget, min_output=min_output), (name, target, budget)
    assert "✘" in said.getvalue()


@pytest.mark.parametrize("question, options", [("ps1-q4", 4), ("ps2-q4", 4), ("ps2-q5", 3), ("ps3-q4", 4)])
def test_choice_letters_are_each_students_own_order_of_the_same_options(question, options):
    texts = [f"option {i}" for i in range(options)]
    orders = set()
    for student_id in IDS[:2000]:
        letters = check.choice_letters(student_id, question, texts)
        assert sorted(letters) == list("abcd"[:options]) and sorted(letters.values()) == texts
        orders.add(tuple(letters.values()))
    assert len(orders) == math.factorial(options)  # every order occurs: a neighbour's letter tells nothing


def reference_decoder(target: int) -> list:
    last = 3 if target % 2 == 0 else 2
    return [Upsample(2), Conv2d(16, 8, 3, padding=1), ReLU(), Upsample(2),
            Conv2d(8, 1, last, padding=(target - 33 + last) // 2)]


def trivial_decoders(target: int) -> dict:
    """Decoders the rules must refuse: each reaches ``target`` by a way around the question."""
    return {
        "one large stride-1 transposed convolution": [ConvTranspose2d(16, 1, target - 7)],
        "one step of stride 4": [ConvTranspose2d(16, 1, 4, stride=4), Conv2d(1, 1, 33 - target, padding=0)
                                 if target < 32 else ConvTranspose2d(1, 1, target - 31)],
        "upsampling by 4 at once": [Upsample(4), Conv2d(16, 1, 3, padding=(target - 30) // 2)]
        if target % 2 == 0 else [Upsample(4), Conv2d(16, 1, 2, padding=(target - 31) // 2)],
        "kernel 3, stride 2 (a checkerboard)": [
            ConvTranspose2d(16, 4, 3, stride=2, padding=1, output_padding=1), ReLU(),
            ConvTranspose2d(4, 1, 3, stride=2, padding=(34 - target) // 2, output_padding=(target + 1) % 2)],
        "16 maps all the way": [ConvTranspose2d(16, 16, 4, stride=2, padding=1), ReLU(),
                                ConvTranspose2d(16, 1, 4, stride=2, padding=1), ConvTranspose2d(1, 1, target - 31)]
        if target > 31 else [ConvTranspose2d(16, 16, 4, stride=2, padding=1), ReLU(),
                             ConvTranspose2d(16, 1, 4, stride=2, padding=1), Conv2d(1, 1, 33 - target)],
        "upsampling only": [Upsample(2), Upsample(2)],
        "the wrong size": reference_decoder(target)[:-1] + [Conv2d(8, 1, 1)] if target != 32 else
        reference_decoder(target)[:-1] + [Conv2d(8, 1, 2)],
    }


def test_every_ps3_variant_has_a_valid_layer_a_reached_pixel_and_a_binding_decoder_question():
    combos, seen = set(), set()
    for student_id in IDS:
        g = check.growing_variant(student_id)
        up = check.variant_transposed(g)
        t = g["transposed"]
        assert 1 <= t["output_padding"] < t["stride"]  # it always matters, and PyTorch accepts it
        assert up.output_size(t["input_size"])[0] >= t["input_size"]  # it grows the map
        stack = check.variant_growing_stack(g)
        assert projective_field(stack, g["pixel"], check.PF_INPUT) is not None, (student_id, g)
        seen.add((g["stack"][3], g["pixel"][0] in (0, check.PF_INPUT - 1)))
        combos.add((g["target"], g["budget"]))
    assert {kernel for kernel, _ in seen} == {2, 3, 4}
    with contextlib.redirect_stdout(io.StringIO()) as said:
        for target, budget in sorted(combos):
            assert check.check_decoder(reference_decoder(target), target, budget)
            for name, decoder in trivial_decoders(target).items():
                assert not check.check_decoder(decoder, target, budget), (name, target, budget)
    assert "✘" in said.getvalue()


def test_the_trivial_decoders_reach_the_target_size_so_another_rule_refuses_them():
    """Each trivial decoder really is an answer of the right size: the rules, not a typo, refuse it."""
    for target in (30, 31, 32, 33, 34):
        for name, decoder in trivial_decoders(target).items():
            if name in ("upsampling only", "the wrong size"):
                continue
            assert receptive_fields(decoder, 8)[-1].output_size == (target, target), (name, target)
