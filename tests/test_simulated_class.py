"""A simulated class: for 300 student ids, the wrong answers students really give, fed to every visible check.

Under either feedback policy no wrong answer may get a ✔ and none may end in a traceback; under
``confirm`` the right answer gets its ✔. The wrong answers are those a review of real answers found
most often: n − k + 1, n / s, a forgotten +1 / padding / stride / output_padding, n · s for a transposed
size, regions and fields shifted by one, 1-based, with exclusive ends, in corner order
((top, left), (bottom, right)), with rows and columns swapped, answers as strings, and the receptive
field where the projective field is asked.
"""

import contextlib
import io

import pytest

from rfmaps import check, input_region, projective_field, receptive_fields

IDS = [f"s{n:05d}" for n in range(300)]


def _size_mistakes(n, k, s, p, right, d=1):
    span = d * (k - 1) + 1
    return {n - k + 1, n - span + 1, n // s, -(-n // s), (n + 2 * p - span) // s, (n - span) // s + 1,
            n + 2 * p - span + 1, right + 1, right - 1, str(right), float(right) + 0.5}


def _box_mistakes(right, shape):
    (top, bottom), (left, r) = right
    h, w = shape
    return [((top + 1, bottom + 1), (left, r)), ((top - 1, bottom - 1), (left, r)),  # shifted by one row
            ((top + 1, bottom + 1), (left + 1, r + 1)),  # 1-based
            ((top, bottom + 1), (left, r + 1)),  # exclusive ends
            ((top, left), (bottom, r)),  # corner order
            ((left, r), (top, bottom)),  # rows and columns swapped
            ((top, bottom), (left, r + 1)), ((0, h - 1), (0, w - 1)),  # everything
            str(right), [top, bottom, left, r]]


def _class_answers():
    """(question, judge(answer) -> bool, right answer, wrong answers) for every id and visible check."""
    for student_id in IDS:
        v, g = check.variant(student_id), check.growing_variant(student_id)
        layer, n = check.variant_layer(v), v["image_size"]
        right = layer.output_size((n, n))[0]
        yield ("ps1 q1", lambda a, layer=layer, n=n: check.check_output_size(layer, n, a), right,
               _size_mistakes(n, v["kernel_size"], v["stride"], v["padding"], right) - {right})
        c_in, maps = layer.in_channels, layer.out_channels
        yield ("ps1 q2", lambda a, layer=layer: check.check_feature_maps(layer, a), maps,
               {c_in, maps * c_in, v["kernel_size"], maps + 1, maps - 1, right} - {maps})
        stack = check.variant_stack(v)
        rows = receptive_fields(stack, check.RF_INPUT)
        sizes = [row.rf_size[0] for row in rows]
        wrong_sizes = [sizes[:-1] + [sizes[-1] + 1], [s + 1 for s in sizes], sizes[::-1] if sizes[::-1] != sizes
                       else None, list(range(1, len(sizes) + 1))]
        yield ("ps2 q1", lambda a, stack=stack: check.check_rf_sizes(stack, check.RF_INPUT, a), sizes,
               [w for w in wrong_sizes if w is not None and w != sizes])
        region = input_region(stack, v["neuron"], check.RF_INPUT)
        yield ("ps2 q2", lambda a, stack=stack, v=v: check.check_region(stack, v["neuron"], check.RF_INPUT, a),
               region, [w for w in _box_mistakes(region, (check.RF_INPUT, check.RF_INPUT)) if w != region])
        t = g["transposed"]
        up, m = check.variant_transposed(g), t["input_size"]
        right_up = up.output_size((m, m))[0]
        yield ("ps3 q1", lambda a, up=up, m=m: check.check_transposed_size(up, m, a), right_up,
               {m * t["stride"], (m - 1) * t["stride"] + t["kernel_size"], right_up - t["output_padding"],
                right_up + 1, right_up - 1, str(right_up)} - {right_up})
        growing = check.variant_growing_stack(g)
        last = receptive_fields(growing, check.PF_INPUT)[-1].output_size
        field = projective_field(growing, g["pixel"], check.PF_INPUT)
        wrong_fields = [w for w in _box_mistakes(field, last) if w != field]
        seen = input_region(growing, g["pixel"], check.PF_INPUT) if all(
            p < s for p, s in zip(g["pixel"], last)) else None
        if seen is not None and seen != field:
            wrong_fields.append(seen)  # the receptive field where the projective field is asked
        yield ("ps3 q2", lambda a, growing=growing, g=g: check.check_projective_field(
            growing, g["pixel"], check.PF_INPUT, a), field, wrong_fields)


def _run(judge, answer):
    with contextlib.redirect_stdout(io.StringIO()) as said:
        verdict = judge(answer)
    return verdict, said.getvalue()


@pytest.mark.parametrize("policy", ["confirm", "mistakes-only"])
def test_no_wrong_answer_gets_a_tick_and_none_a_traceback(monkeypatch, policy):
    monkeypatch.setenv("RFMAPS_FEEDBACK", policy)
    ticked, wrong_answers = [], 0
    for question, judge, right, wrongs in _class_answers():
        verdict, text = _run(judge, right)
        assert verdict is True, (question, right, text)
        assert text.startswith("✔ " if policy == "confirm" else "• "), (question, text)
        for wrong in wrongs:
            wrong_answers += 1
            verdict, text = _run(judge, wrong)
            if "✔" in text:
                ticked.append((question, right, wrong, text))
            if policy == "confirm":
                assert verdict is False and text.startswith("✘ "), (question, right, wrong, text)
    assert wrong_answers > 10_000
    assert not ticked, f"{len(ticked)} of {wrong_answers} wrong answers got a ✔, e.g. {ticked[:3]}"


# The formulas students write as functions (ps1 q5, ps2 q6, ps3 q6): right ones in several styles, and the
# wrong ones a class writes, each a function as a student would type it.
def _floor_size(n, k, s=1, p=0, d=1):
    return (n + 2 * p - d * (k - 1) - 1) // s + 1


def _counting_size(n, k, s=1, p=0, d=1):
    count, start = 0, 0
    while start + d * (k - 1) <= n + 2 * p - 1:
        count, start = count + 1, start + s
    return count


def _math_floor_size(n, k, s=1, p=0, d=1):
    import math
    return math.floor((n + 2 * p - d * (k - 1) - 1) / s) + 1


def _rf(layers):
    rf, jump = 1, 1
    for k, s, d in layers:
        rf, jump = rf + d * (k - 1) * jump, jump * s
    return rf, jump


def _rf_backwards(layers):
    rf = 1
    for k, s, d in reversed(layers):  # from the top down: r = s · r + d(k − 1) − s + 1... as the r' = s r + ...
        rf = s * (rf - 1) + d * (k - 1) + 1
    jump = 1
    for _, s, _ in layers:
        jump *= s
    return rf, jump


def _transposed(n, k, s=1, p=0, op=0, d=1):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def _rf_wrong(grow, step):
    def rf_size_and_jump(layers):
        rf, jump = 1, 1
        for k, s, d in layers:
            rf += grow(k, s, d, jump)
            jump = step(jump, s)
        return rf, jump
    return rf_size_and_jump


FORMULAS = {
    "ps1 q5": (check.check_conv_size_function, [_floor_size, _counting_size, _math_floor_size], [
        lambda n, k, s=1, p=0, d=1: n - k + 1,
        lambda n, k, s=1, p=0, d=1: (n + 2 * p - d * (k - 1) - 1) // s,
        lambda n, k, s=1, p=0, d=1: (n - d * (k - 1) - 1) // s + 1,
        lambda n, k, s=1, p=0, d=1: (n + p - d * (k - 1) - 1) // s + 1,
        lambda n, k, s=1, p=0, d=1: (n + 2 * p - k) // s + 1,
        lambda n, k, s=1, p=0, d=1: (n + 2 * p - d * k) // s + 1,
        lambda n, k, s=1, p=0, d=1: -(-(n + 2 * p - d * (k - 1) - 1) // s) + 1,
        lambda n, k, s=1, p=0, d=1: (n + 2 * p - d * (k - 1) - 1) / s + 1,
        lambda n, k, s=1, p=0, d=1: int((n + 2 * p - d * (k - 1) - 1) / s + 1.5),
        lambda n, k, s=1, p=0, d=1: round((n + 2 * p - d * (k - 1) - 1) / s) + 1,
        lambda n, k, s=1, p=0, d=1: n // s,
        lambda n, k, s=1, p=0, d=1: (n + 2 * p - d * (k - 1) - 1) // s + 1 + (s == 3),
        lambda n, k, s=1, p=0, d=1: (n + 2 * s - d * (k - 1) - 1) // p + 1,  # stride and padding swapped
        lambda n, k, s=1, p=0, d=1: None,
        lambda n, k, s=1, p=0, d=1: str(_floor_size(n, k, s, p, d)),
        lambda n, k, s=1, p=0, d=1: 1 // 0,
        lambda n, k, s=1, p=0, d=1: check.variant_layer(check.variant("x")).output_size(n)[0],
        lambda n, k, s=1, p=0, d=1: __import__("rfmaps").Conv2d(1, 1, k, stride=s, padding=p,
                                                                dilation=d).output_size(n)[0],
    ]),
    "ps2 q6": (check.check_rf_function, [_rf, _rf_backwards], [
        _rf_wrong(lambda k, s, d, j: d * (k - 1), lambda j, s: j * s),
        _rf_wrong(lambda k, s, d, j: d * (k - 1) * j * s, lambda j, s: j * s),
        _rf_wrong(lambda k, s, d, j: (k - 1) * j, lambda j, s: j * s),
        _rf_wrong(lambda k, s, d, j: d * k * j, lambda j, s: j * s),
        _rf_wrong(lambda k, s, d, j: (d * (k - 1) + 1) * j, lambda j, s: j * s),
        _rf_wrong(lambda k, s, d, j: d * (k - 1) * j, lambda j, s: j + s - 1),
        _rf_wrong(lambda k, s, d, j: d * (k - 1) * j, lambda j, s: s),
        _rf_wrong(lambda k, s, d, j: d * (k - 1) * j, lambda j, s: 1),
        _rf_wrong(lambda k, s, d, j: d * (k - 1), lambda j, s: 1),
        lambda layers: [_rf(layers)[0]],
        lambda layers: _rf(layers)[::-1],
        lambda layers: (_rf(layers)[0], _rf(layers)[1] + (len(layers) == 3)),
    ]),
    "ps3 q6": (check.check_transposed_size_function, [_transposed], [
        lambda n, k, s=1, p=0, op=0, d=1: n * s,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s - 2 * p + d * (k - 1) + op,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s - 2 * p + d * (k - 1) + 1,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s + 2 * p + d * (k - 1) + op + 1,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s + d * (k - 1) + op + 1,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s - p + d * (k - 1) + op + 1,
        lambda n, k, s=1, p=0, op=0, d=1: n * s - 2 * p + d * (k - 1) + op + 1,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s - 2 * p + (k - 1) + op + 1,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s - 2 * p + k + op + 1,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s - 2 * p + d * (k - 1) + 2 * op + 1,
        lambda n, k, s=1, p=0, op=0, d=1: (n + 2 * p - d * (k - 1) - 1) // s + 1,
        lambda n, k, s=1, p=0, op=0, d=1: (n - 1) * s - 2 * p + d * (k - 1) + op + 1 - (op == 2),
    ]),
}


@pytest.mark.parametrize("policy", ["confirm", "mistakes-only"])
@pytest.mark.parametrize("question", sorted(FORMULAS))
def test_no_wrong_formula_gets_a_tick_and_none_a_traceback(monkeypatch, policy, question):
    monkeypatch.setenv("RFMAPS_FEEDBACK", policy)
    judge, rights, wrongs = FORMULAS[question]
    for right in rights:
        verdict, text = _run(judge, right)
        assert verdict is True and text.startswith("✔ " if policy == "confirm" else "• "), (question, text)
    for number, wrong in enumerate(wrongs):
        verdict, text = _run(judge, wrong)
        assert "✔" not in text and "Traceback" not in text, (question, number, text)
        if policy == "confirm":
            assert verdict is False and text.startswith("✘ "), (question, number, text)
