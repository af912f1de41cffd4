"""The Predict questions of the notebook series, read from the notebook files (no kernel, no widgets).

``predictions()`` parses every code cell tagged ``prediction`` with :mod:`ast` and returns one
:class:`Prediction` per ``Predict(...)`` call: the notebook, the question, the answer (a literal, or
``None`` when the cell computes it, as 11's does from the model it reads), the options and the
explanation. tests/test_predict.py checks the answers against torch; tests/test_instructor_guide.py
checks the instructor guide's answer key against them.
"""

import ast
import json
from pathlib import Path
from typing import List, NamedTuple, Optional, Tuple

NOTEBOOKS = Path(__file__).resolve().parents[1] / "notebooks"


class Prediction(NamedTuple):
    notebook: str             # the file's stem, e.g. "05_depth"
    question: str
    answer: object            # a literal answer, or None when the cell computes it
    answer_source: str        # the answer's expression as written in the cell
    options: Optional[Tuple[str, ...]]
    explanation: str
    kind: Optional[str]
    source: str               # the whole cell


def _literal(node):
    try:
        return ast.literal_eval(node)
    except ValueError:
        return None


def _calls(source: str):
    tree = ast.parse(source)
    return [node for node in ast.walk(tree)
            if isinstance(node, ast.Call) and getattr(node.func, "id", None) == "Predict"]


def predictions(notebooks=None) -> List[Prediction]:
    """Every Predict of the series, in the order of the notebooks and their cells."""
    found = []
    for path in sorted(notebooks or NOTEBOOKS.glob("*.ipynb")):
        cells = json.loads(path.read_text(encoding="utf-8"))["cells"]
        for cell in cells:
            if cell["cell_type"] != "code" or "prediction" not in cell.get("metadata", {}).get("tags", []):
                continue
            source = "".join(cell["source"])
            for call in _calls(source):
                keywords = {k.arg: k.value for k in call.keywords}
                options = keywords.get("options")
                if options is not None:
                    value = _literal(options)
                    options = tuple(value) if value is not None else None
                answer_node = call.args[1] if len(call.args) > 1 else keywords["answer"]
                found.append(Prediction(
                    notebook=path.stem, question=_literal(call.args[0]), answer=_literal(answer_node),
                    answer_source=ast.get_source_segment(source, answer_node), options=options,
                    explanation=_literal(keywords["explanation"]) if "explanation" in keywords else "",
                    kind=_literal(keywords["kind"]) if "kind" in keywords else None, source=source))
    return found


def prediction(notebook: str, question_start: str) -> Prediction:
    """The one Predict of ``notebook`` whose question starts with ``question_start``."""
    hits = [p for p in predictions([NOTEBOOKS / f"{notebook}.ipynb"]) if p.question.startswith(question_start)]
    assert len(hits) == 1, (notebook, question_start, hits)
    return hits[0]
