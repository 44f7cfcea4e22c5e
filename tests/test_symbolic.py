"""The Taylor route's parser: formula text → SymPy, safely, with positioned errors.

Expected expressions are built here with SymPy's constructors (never from
strings), so they are an independent reference for the transformer.
"""
import builtins
import doctest
from pathlib import Path

import pytest
import sympy as sp

import losscc.series
import losscc.language.to_sympy
from losscc import LossccError
from losscc.language.grammar import parser
from losscc.language.to_sympy import formula_to_sympy

d, pred, target = (sp.Symbol(n, real=True) for n in ("d", "pred", "target"))


def sympy_of(text):
    return formula_to_sympy(text).expr


@pytest.mark.parametrize("text,expected", [
    ("exp(d)", sp.exp(d)),
    ("log(cosh(d))", sp.log(sp.cosh(d))),
    ("sqrt(1 + d^2) - 1", sp.sqrt(1 + d**2) - 1),
    ("sinh(d) * tanh(d)", sp.sinh(d) * sp.tanh(d)),
    ("sin(d) + cos(d)", sp.sin(d) + sp.cos(d)),
    ("atan(d)^2", sp.atan(d)**2),
    ("erf(d) * d", sp.erf(d) * d),
    ("abs(d) + square(d) + mul(d, d)", sp.Abs(d) + 2 * d**2),
    ("d^2 / (1 + d^2)", d**2 / (1 + d**2)),
    ("d**2.5 + d^(1/3)", d**sp.Rational(5, 2) + d**sp.Rational(1, 3)),
    ("0.1 * d", sp.Rational(1, 10) * d),  # the decimal as written, exactly
    ("1e-3 * d^2", sp.Rational(1, 1000) * d**2),
    ("pi * d + E", sp.pi * d + sp.E),
    ("2^d", 2**d),
    ("-d^2", -(d**2)),  # unary minus binds looser than ^
    ("log(cosh(pred - target))", sp.log(sp.cosh(pred - target))),
    ("square(logits - labels)", (pred - target)**2),  # the aliases
])
def test_formulas_become_the_sympy_expression(text, expected):
    assert sympy_of(text) == expected


def test_every_function_of_the_table_is_reachable():
    builders = {"exp": sp.exp, "log": sp.log, "sqrt": sp.sqrt, "cosh": sp.cosh,
                "sinh": sp.sinh, "tanh": sp.tanh, "sin": sp.sin, "cos": sp.cos,
                "atan": sp.atan, "erf": sp.erf, "abs": sp.Abs}
    for name, build in builders.items():
        assert sympy_of(f"{name}(d + 2)") == build(d + 2), name
    half = sp.Rational(1, 2)
    huber2 = sp.Piecewise((d**2 / 2, sp.Abs(d) <= 2), (2 * (sp.Abs(d) - 1), True))
    robust = {  # the literature's definitions, written out here
        "min(d + 2, 1)": sp.Min(d + 2, 1), "max(d, 0)": sp.Max(d, 0),
        "relu(d + 2)": sp.Max(d + 2, 0), "clip(d, -1, 1)": sp.Min(sp.Max(d, -1), 1),
        "pinball(d, 0.25)": sp.Max(-d / 4, 3 * d / 4), "quantile(d, tau=0.25)": sp.Max(-d / 4, 3 * d / 4),
        "eps_insensitive(d, 0.5)": sp.Max(sp.Abs(d) - half, 0),
        "huber(d, 2)": huber2, "smooth_l1(d, beta=2)": huber2 / 2,
        "tukey(d, 3)": sp.Piecewise((sp.Rational(3, 2) * (1 - (1 - d**2 / 9) ** 3), sp.Abs(d) <= 3),
                                    (sp.Rational(3, 2), True)),
    }
    for text, expected in robust.items():
        assert sp.simplify(sympy_of(text) - expected) == 0, text
    named = set(builders) | {"square", "mul"} | {t.split("(")[0] for t in robust}
    assert set(losscc.language.table.FUNCTIONS) == named


def test_calls_remember_where_they_are():
    parsed = formula_to_sympy("1 + log(cosh(d))")
    assert parsed.spans[sp.log(sp.cosh(d))] == (4, 16)
    assert parsed.spans[sp.cosh(d)] == (8, 15)


def error_for(text):
    with pytest.raises(LossccError) as info:
        formula_to_sympy(text)
    return info.value


@pytest.mark.parametrize("text,message,column,hint_has", [
    ("cosj(d)", "unknown function 'cosj'", 1, "did you mean 'cos"),
    ("exec(d)", "unknown function 'exec'", 1, "did you mean 'exp'? losscc taylor knows abs,"),
    ("__import__(d)", "unknown function '__import__'", 1, "losscc taylor knows"),
    ("log(x)", "unknown variable 'x'", 5, "the inputs are d"),
    ("log(cosh)", "'cosh' is a function, not a variable", 5, "call it"),
    ("d(2)", "'d' is a variable, not a function", 1, "multiply"),
    ("mul(d)", "mul takes 2 arguments, got 1", 1, "mul(x, y)"),
    ("exp(d, d)", "exp takes 1 argument, got 2", 1, "exp(x)"),
    ("d / (1 - 1)", "division by zero", 6, None),
    ("d^1e9", "exponent 1000000000 is too large", 3, "1024"),
    ("d^(10^10^10)", "exponent 10000000000 is too large", 7, "1024"),
    ("(10^300)^2 * d", "this power overflows a 64-bit float", 1, None),
    ("1e999 * d", "this constant overflows a 64-bit float", 1, None),
    ("1e-999 * d", "this constant underflows to 0", 1, "write 0"),
    ("log(0 - 1) * d", "this is not a finite real number", 1, "real values"),
    ("sqrt(0 - 4) + d", "this is not a finite real number", 1, "real values"),
    ("(0 - 8)^(1/3) * d", "a negative number to a fractional power is not real", 1, None),
])
def test_errors_are_positioned(text, message, column, hint_has):
    e = error_for(text)
    assert e.message == message
    assert (e.line, e.column) == (1, column)
    assert e.render().splitlines()[3].startswith("1 | ")  # the line, shown with a caret
    if hint_has:
        assert hint_has in e.hint


def test_deep_nesting_is_refused_where_it_gets_too_deep():
    text = "exp(" * 200 + "d" + ")" * 200
    e = error_for(text)
    assert e.message == "the formula is nested too deeply"
    assert "64" in e.hint and e.line == 1 and e.start > 0


def test_flat_sums_are_not_nesting_but_huge_formulas_are_refused():
    sympy_of(" + ".join(f"{k}*d^{k % 7}" for k in range(150)))  # 150 terms: fine
    e = error_for(" + ".join(f"d^{k}" for k in range(1, 700)))
    assert e.message == "the formula is too large" and "1000" in e.hint


def test_code_injection_is_a_syntax_error_and_runs_nothing(tmp_path, monkeypatch):
    marker = tmp_path / "pwned"
    attacks = [
        f"__import__('os').system('touch {marker}')",
        f'__import__("os").system("touch {marker}")',
        "d.__class__.__bases__",
        "lambda: d",
        "[d for d in ()]",
        "exec('import os')",
        "d; import os",
    ]
    for attack in attacks:
        e = error_for(attack)
        assert e.line == 1 and e.column is not None, attack
    assert not marker.exists()


def test_no_string_ever_reaches_sympify_eval_or_exec(monkeypatch):
    parser()  # build lark's tables first: that is lark's business, not ours

    def forbidden(*args, **kwargs):
        raise AssertionError(f"called with {args!r}")

    from sympy.parsing import sympy_parser

    monkeypatch.setattr(sympy_parser, "parse_expr", forbidden)
    monkeypatch.setattr(builtins, "eval", forbidden)
    monkeypatch.setattr(builtins, "exec", forbidden)
    expr = sympy_of("log(cosh(0.5*d)) + sqrt(1 + d^2) / (2 + d^2) + 2^d + pi*erf(d)")
    assert expr.has(sp.erf(d)) and expr.has(sp.pi)
    # ... and no such call is written in the Taylor route's modules at all.
    package = Path(losscc.__file__).parent
    sources = [*sorted((package / "language").glob("*.py")), *sorted((package / "series").glob("*.py"))]
    assert len(sources) > 2
    for path in sources:
        code = path.read_text(encoding="utf-8")
        for word in ("sympify(", "parse_expr(", "eval(", "exec(", "S(\""):
            assert word not in code.replace("evaluate(", ""), (path.name, word)


def test_the_grammar_is_the_shared_one():
    from losscc.language.grammar import grammar_text

    assert "losscc/language/to_sympy.py" in grammar_text()


@pytest.mark.parametrize("module", [losscc.language.to_sympy, losscc.series])
def test_docstring_examples(module):
    result = doctest.testmod(module, optionflags=doctest.ELLIPSIS)
    assert result.failed == 0 and result.attempted > 0


@pytest.mark.parametrize("text", ["exp(exp(exp(100)))*d^2", "cosh(1000) * d^2", "sinh(exp(710))*d"])
def test_huge_constants_are_refused_at_once(text):
    # SymPy keeps these exact; evaluating them later would take hours
    with pytest.raises(LossccError, match="overflows a 64-bit float") as info:
        sympy_of(text)
    assert info.value.column is not None
