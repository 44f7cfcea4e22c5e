"""Every input error is a LossccError with a message, a position and a hint."""
import sys

import pytest

import losscc
from losscc import LossccError


def error_for(formula, reduction="mean"):
    with pytest.raises(LossccError) as info:
        losscc.program(formula, reduction)
    return info.value


def test_unknown_analytic_function_points_to_taylor():
    e = error_for("0.5*log(d)")
    assert e.message == "'log' is an analytic function, which compile does not take"
    assert (e.line, e.column, e.end - e.start) == (1, 5, 3)
    assert "losscc taylor" in e.hint


def test_unknown_function_suggests_closest():
    e = error_for("sqare(d)")
    assert e.message == "unknown function 'sqare'" and "did you mean 'square'?" in e.hint


def test_unknown_variable_suggests_closest():
    e = error_for("square(pred - targte)")
    assert e.message == "unknown variable 'targte'"
    assert (e.line, e.column) == (1, 15)
    assert "did you mean 'target'?" in e.hint


@pytest.mark.parametrize("formula,message,column", [
    ("d^-2", "negative exponent -2", 3),
    ("d**0.5", "fractional exponent 0.5", 4),
    ("d^2000", "exponent 2000 is too large", 3),
    ("d^pred", "the exponent must be a constant whole number", 3),
])
def test_bad_exponents(formula, message, column):
    e = error_for(formula)
    assert e.message == message and e.column == column and e.hint


def test_division_by_a_variable():
    e = error_for("square(d) / target")
    assert e.message == "division by an expression that is not a constant"
    assert e.column == 13 and "losscc taylor" in e.hint


def test_division_by_zero():
    e = error_for("square(d) / (2 - 2)")
    assert e.message == "division by zero" and e.column == 14


@pytest.mark.parametrize("formula,message", [
    ("mul(d)", "mul takes 2 arguments, got 1"),
    ("square(d, d)", "square takes 1 argument, got 2"),
    ("abs()", "abs takes 1 argument, got 0"),
])
def test_wrong_number_of_arguments(formula, message):
    e = error_for(formula)
    assert e.message == message and e.column == 1 and e.hint.startswith("write ")


@pytest.mark.parametrize("formula", ["", "   ", "# only a comment\n  "])
def test_empty_formula(formula):
    e = error_for(formula)
    assert e.message == "empty formula" and "square(d)" in e.hint


def test_unclosed_parenthesis():
    e = error_for("square((d + 1)")
    assert e.message == "'(' is never closed" and e.column == 7


def test_unmatched_parenthesis():
    e = error_for("abs(d))")
    assert e.message == "unmatched ')'" and e.column == 7


def test_formula_ending_too_early():
    e = error_for("square(d) +\n  # nothing follows")
    assert e.message == "the formula ends too early" and (e.line, e.column) == (1, 12)


def test_error_on_a_later_line():
    e = error_for("square(d)\n  + abs(q)")
    assert (e.line, e.column) == (2, 9)
    assert "2 |   + abs(q)" in e.render() and "\n  |         ^" in e.render()


@pytest.fixture
def recursion_limit_1000():
    """Python's default limit (some libraries raise it on import)."""
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    yield
    sys.setrecursionlimit(old)


# 3900 nested abs( is just under MAX_FORMULA_CODE; deeper formulas are refused for their size.
@pytest.mark.parametrize("depth", [2000, 3900])
def test_deep_nesting_does_not_exhaust_recursion(depth, recursion_limit_1000):
    program = losscc.program("(" * depth + "d" + ")" * depth + "^2")
    assert program.op_counts == {"Square": 1}
    assert losscc.program("abs(" * depth + "d" + ")" * depth).op_counts == {"Abs": 1}
    assert losscc.program("-" * depth + "d^2").op_count == 1


def test_code_injection_is_a_syntax_error():
    e = error_for("__import__('os').system('touch /tmp/losscc-pwned')")
    assert e.message == "unexpected character \"'\"" and e.column == 12


def test_unknown_reduction():
    e = error_for("square(d)", "maen")
    assert e.message == "unknown reduction 'maen'" and e.source == "reduction"
    assert "did you mean 'mean'?" in e.hint and e.column == 1


def test_zero_reduction_factor():
    assert error_for("square(d)", "0*sum").message.startswith("the reduction's factor")


def test_constant_loss_is_refused():
    e = error_for("target^2")
    assert e.message == "the loss does not depend on the prediction"


def test_invalid_class_name():
    with pytest.raises(LossccError, match="invalid class name"):
        losscc.source("square(d)", name="X(nn.Cell): pass\nimport os\nclass Y")
    for name in ("class", "super", "print", "nn", "warnings", "__file__", "__path__"):
        with pytest.raises(LossccError, match="cannot be a class name"):
            losscc.source("square(d)", name=name)


def test_render_has_caret_under_the_fault():
    text = error_for("square(d) + lgo(d)").render()
    assert text.splitlines() == [
        "error: unknown function 'lgo'",
        " --> formula, line 1, column 13",
        "  |",
        "1 | square(d) + lgo(d)",
        "  |             ^^^",
        "hint: did you mean 'log'? compile knows abs, square, mul, min, max, relu, clip, huber, "
        "smooth_l1, pinball, quantile, eps_insensitive and tukey (docs/grammar.md)",
    ]


def test_control_characters_do_not_garble_the_caret_line():
    text = error_for("sq\rare(d)").render()
    assert "\r" not in text
    assert "1 | sq\ufffdare(d)\n  |    ^^^" in text


@pytest.mark.parametrize("newline", ["\n", "\r\n", "\r", "\u2028", "\x0b"])
def test_a_comment_ends_at_every_line_break(newline):
    # what the messages and the generated comments show as two lines is two lines
    program = losscc.program(f"square(d) # note{newline}+ abs(d)")
    assert program.op_counts == {"Abs": 1, "Add": 1, "Square": 1}


@pytest.mark.parametrize("formula,message,column", [
    ("1e39*square(d)", "the constant 1e+39 is beyond float32's range", 1),
    ("square(d) + 1e-320*d", "the constant 1e-320 is 0 in float32", 13),
    ("1e-30*1e-30*square(d) + abs(d)", "the constant 1e-60 is 0 in float32", 1),
    ("1e-400*square(d)", "this constant underflows to 0", 1),
    ("1e30*(1e30*square(d))", "the compiled loss has the constant 1e+60", 1),
])
def test_constants_must_fit_float32(formula, message, column):
    # MindSpore's losses compute in float32: inf or 0 there is no loss at all
    e = error_for(formula)
    assert e.message.startswith(message) and e.column == column


@pytest.mark.parametrize("written,held", [
    ("3.40282347e38", 3.4028234663852886e38),  # above the largest float32, rounds to it
    ("1e-45", 2.0**-149),                      # below the smallest subnormal, rounds up to it
])
def test_a_constant_that_rounds_into_float32_is_taken(written, held):
    import numpy as np

    assert float(np.float32(float(written))) == held  # NumPy's rounding, independently
    program = losscc.program(f"{written}*square(d)")
    assert program.root.args[0].value == float(written)


def test_reduction_factor_must_fit_float32():
    assert "within float32's range" in error_for("square(d)", "1e-320*sum").message
