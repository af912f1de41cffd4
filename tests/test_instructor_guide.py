"""notebooks/INSTRUCTORS.md cannot drift from the notebooks: every number in it is checked here.

The answer key is read row by row: its question must be a question a notebook asks, word for word, and
its answer is judged by the same reader that judges a student's typed guess
(:func:`rfmaps.widgets.guesses.judge`), or must be the right option. The arithmetic of the "why"
column is evaluated; any other number there must be one the notebook itself writes. Free prose holds
no numbers at all, so nothing the tests do not read can go stale.
"""

import json
import re
from fractions import Fraction
from pathlib import Path

import pytest

from notebook_predictions import NOTEBOOKS, predictions
from rfmaps.widgets.guesses import answer_values, infer_kind, judge, wanted_values

GUIDE = NOTEBOOKS / "INSTRUCTORS.md"
STEMS = sorted(path.stem for path in NOTEBOOKS.glob("*.ipynb"))
NUMBER = re.compile(r"\d+(?:\.\d+)?")


def sections():
    """The guide's text under each '## ' heading."""
    parts = re.split(r"^## ", GUIDE.read_text(encoding="utf-8"), flags=re.M)
    return {part.split("\n", 1)[0].strip(): part.split("\n", 1)[1] for part in parts[1:]}


def table(text):
    """The rows of the first Markdown table in ``text``, as lists of stripped cells (header and rule left out)."""
    lines = [line for line in text.splitlines() if line.startswith("|")]
    return [[cell.strip() for cell in line.strip("|").split("|")] for line in lines[2:]]


def stem(cell):
    match = re.fullmatch(r"`(\d\d_\w+)`", cell)
    assert match, f"not a notebook name in backticks: {cell!r}"
    assert match.group(1) in STEMS, f"no notebook {match.group(1)}"
    return match.group(1)


def notebook_text(name):
    cells = json.loads((NOTEBOOKS / f"{name}.ipynb").read_text(encoding="utf-8"))["cells"]
    return "\n".join("".join(cell["source"]) for cell in cells)


def headings(name):
    return {line[3:].strip() for line in notebook_text(name).splitlines() if line.startswith("## ")}


def true_equations(text):
    """The numbers of every equation ``a = b (= c ...)`` in ``text`` whose arithmetic sides all agree.

    Only sides made of numbers, + − · / ( ) and ⌊ ⌋ are evaluated (exactly, in fractions); an equation
    with a side that does not hold fails the test that calls this.
    """
    checked = set()
    for chain in re.findall(r"[0-9⌊(][0-9 +−·/()⌊⌋.]*(?:=\s*[0-9⌊(][0-9 +−·/()⌊⌋.]*)+", text):
        sides = [side.strip() for side in chain.split("=")]
        values = []
        for side in sides:
            expression = NUMBER.sub(lambda m: f"Fraction('{m.group()}')", side)
            expression = expression.replace("−", "-").replace("·", "*").replace("⌊", "floor(").replace("⌋", ")")
            values.append(eval(expression, {"Fraction": Fraction, "floor": lambda x: Fraction(x.__floor__())}))
        assert len(set(values)) == 1, f"an equation of the guide does not hold: {chain}"
        checked.update(NUMBER.findall(chain))
    return checked


def test_the_guide_is_linked_from_the_readme_and_from_00():
    assert "notebooks/INSTRUCTORS.md" in (NOTEBOOKS.parent / "README.md").read_text(encoding="utf-8")
    assert "(INSTRUCTORS.md)" in notebook_text("00_start_here")


def test_every_notebook_has_a_row_with_minutes_and_earlier_prerequisites():
    rows = table(sections()["The notebooks"])
    assert [stem(row[0]) for row in rows] == STEMS
    for name, minutes, before, targets in rows:
        assert 5 <= int(minutes) <= 45, (name, minutes)
        if before != "none":
            for prerequisite in before.split(", "):
                assert stem(prerequisite) < stem(name), (name, prerequisite)
        assert targets and not re.search(r"\d", targets), (name, targets)  # words only


def test_the_lab_path_takes_75_minutes_and_names_sections_the_notebooks_have():
    text = sections()["A 75-minute lab"]
    rows = table(text)
    assert [int(row[0]) for row in rows] == list(range(1, len(rows) + 1))
    assert sum(int(row[1]) for row in rows) == 75
    minutes = {stem(row[0]): int(row[1]) for row in table(sections()["The notebooks"])}
    for step, taking, notebook, named in rows:
        if notebook == "none":
            continue
        name = stem(notebook)
        assert int(taking) <= minutes[name], (name, "the lab cannot take longer than the whole notebook")
        for section in named.split("; "):
            assert section in headings(name), (name, section)
    names = [stem(row[2]) for row in rows if row[2] != "none"]
    assert names == sorted(names), "the lab goes through the notebooks in order"


def answer_key():
    return table(sections()["Answer key"])


def test_the_answer_key_answers_every_predict_of_every_notebook_in_order():
    asked = [(p.notebook, p.question) for p in predictions()]
    keyed = [(stem(row[0]), row[1]) for row in answer_key() if not row[1].startswith("Check:")]
    assert keyed == asked


@pytest.mark.parametrize("prediction", [p for p in predictions() if p.answer is not None],
                         ids=lambda p: f"{p.notebook}:{p.question[:40]}")
def test_each_answer_of_the_key_is_the_answer_of_its_predict(prediction):
    row = next(row for row in answer_key() if row[1] == prediction.question)
    written = row[2]
    if prediction.options:
        assert written == prediction.answer
        return
    kind = prediction.kind or infer_kind(prediction.question, prediction.answer)
    values, _ = answer_values(prediction.answer)
    assert judge(written, kind, wanted_values(kind, values)), (written, prediction.answer)


def test_the_computed_answer_of_11_is_what_the_notebook_computes_with_and_without_torch():
    torch = pytest.importorskip("torch")
    import rfmaps

    row = next(row for row in answer_key() if row[0] == "`11_your_own_network`" and "receptive field" in row[1])
    with_torch, without = (int(n) for n in NUMBER.findall(row[2]))
    cell = next(c for c in json.loads((NOTEBOOKS / "11_your_own_network.ipynb").read_text())["cells"]
                if "class MyNet" in "".join(c["source"]))
    namespace = {"torch": torch, "nn": torch.nn, "F": torch.nn.functional, "rfmaps": rfmaps}
    exec("".join(cell["source"]), namespace)  # the cell's own model, read by from_torch
    assert rfmaps.receptive_fields(namespace["layers"], input_size=32)[-1].rf_size[0] == with_torch
    assert rfmaps.receptive_fields(rfmaps.models.trained.small_cnn(), input_size=32)[-1].rf_size[0] == without
    assert "MyNet" in row[2]


def test_the_check_of_04_is_what_its_cell_computes_and_what_autograd_says():
    torch = pytest.importorskip("torch")
    import rfmaps
    from rfmaps import Conv2d

    row = next(row for row in answer_key() if row[1].startswith("Check:"))
    assert stem(row[0]) == "04_dilation" and "**Check** that no count is zero" in notebook_text("04_dilation")
    dilated = [Conv2d(1, 1, 3, dilation=1), Conv2d(1, 1, 3, dilation=2), Conv2d(1, 1, 3, dilation=4)]
    assert int((rfmaps.path_counts(dilated, (0, 0), input_size=15) == 0).sum()) == int(row[2])
    # autograd: with positive weights every pixel with a path moves the neuron
    net = torch.nn.Sequential(*[torch.nn.Conv2d(1, 1, 3, dilation=d, bias=False) for d in (1, 2, 4)]).double()
    for conv in net:
        torch.nn.init.uniform_(conv.weight, 0.1, 1.0)
    x = torch.ones(1, 1, 15, 15, dtype=torch.float64, requires_grad=True)
    (grad,) = torch.autograd.grad(net(x)[0, 0, 0, 0], x)
    assert int((grad == 0).sum()) == int(row[2])


def test_every_number_of_the_why_column_is_true_arithmetic_or_written_by_its_notebook():
    for name, question, answer, why in answer_key():
        name = stem(name)
        source = notebook_text(name)
        arithmetic = true_equations(why)
        for number in NUMBER.findall(why):
            assert number in arithmetic or re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", source), (
                f"{name}: {number} in {why!r} is neither checked arithmetic nor a number the notebook writes")
        for number in NUMBER.findall(question):  # a question of a check, not a Predict, quotes its notebook
            assert re.search(rf"(?<![\d.]){re.escape(number)}(?![\d])", source), (name, number)


def test_prose_outside_the_tables_holds_no_number_but_notebook_names_and_the_lab_length():
    text = GUIDE.read_text(encoding="utf-8")
    prose = "\n".join(line for line in text.splitlines() if not line.startswith("|"))
    prose = re.sub(r"`\d\d_\w+`", "", prose).replace("75-minute", "")
    prose = re.sub(r"`tests/test_\w+\.py`", "", prose)
    assert not re.search(r"\d", prose), re.findall(r".{20}\d.{20}", prose)
