"""Fuzzing the formula language.

Valid formulas are generated here as small trees (this file's own AST),
printed as text by this file's own printer (minimal parentheses, random
spacing, ``^`` or ``**``, aliases, comments) and evaluated by this file's own
NumPy evaluator: nothing of the reference goes through losscc's parser, IR or
evaluator. losscc must compile each one, and its NumPy evaluator and the
loaded cell must agree with the reference. Random and mutated strings must
fail, if at all, with a LossccError that points into the text, and the CLI
must answer them with exit 0 or 2, never a traceback.

CI runs few examples, derandomized (the same ones every run). A long campaign:

    LOSSCC_FUZZ_EXAMPLES=100000 pytest tests/test_fuzz.py
"""
from __future__ import annotations

import contextlib
import io
import math
import os
import random
import subprocess
import sys

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

import losscc
from losscc import LossccError
from losscc.cli.main import main as cli_main

CAMPAIGN = int(os.environ.get("LOSSCC_FUZZ_EXAMPLES", "0"))


def examples(default: int) -> settings:
    """Hypothesis settings: ``default`` examples in CI, LOSSCC_FUZZ_EXAMPLES in a campaign."""
    return settings(
        max_examples=CAMPAIGN or default,
        deadline=None,
        derandomize=not CAMPAIGN,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture,
                               HealthCheck.filter_too_much],
    )


# The test's own formula trees --------------------------------------------
# ("num", value, text) | ("var", canonical, written) | ("named", value, text)
# | (op, a, b) for add sub mul | ("div", a, num) | ("neg", a) | ("plus", a)
# | ("pow", a, k, exponent_text) | ("call", name, args...)

VARIABLES = {"d": "d", "pred": "pred", "target": "target", "logits": "pred", "base": "pred",
             "labels": "target", "label": "target"}
NAMED = {"pi": math.pi, "E": math.e}


@st.composite
def numbers(draw, nonzero: bool = False):
    mantissa = draw(st.integers(1 if nonzero else 0, 99))
    scale = draw(st.integers(0, 2))
    value = mantissa / 10**scale
    forms = [f"{mantissa}e-{scale}", f"{mantissa}E-{scale}", repr(value)]
    if scale == 0:
        forms += [str(mantissa), f"{mantissa}.", f"{mantissa}.0", f"{mantissa * 10}e-1"]
    elif mantissa < 10**scale:
        forms.append("." + str(mantissa).rjust(scale, "0"))
    return ("num", value, draw(st.sampled_from(forms)))


LEAVES = st.one_of(
    numbers(),
    st.sampled_from(sorted(VARIABLES)).map(lambda w: ("var", VARIABLES[w], w)),
    st.sampled_from(sorted(NAMED)).map(lambda w: ("named", NAMED[w], w)),
)


def _extend(children):
    return st.one_of(
        st.tuples(st.sampled_from(["add", "sub", "mul"]), children, children),
        st.tuples(st.just("div"), children, numbers(nonzero=True)),
        st.tuples(st.sampled_from(["neg", "plus"]), children),
        st.builds(lambda a, k, form: ("pow", a, k, form.format(k)), children,
                  st.integers(0, 5), st.sampled_from(["{}", "({})", "{}.0", "{}e0"])),
        st.tuples(st.just("call"), st.sampled_from(["abs", "square"]), children),
        st.tuples(st.just("call"), st.just("mul"), children, children),
    )


TREES = st.recursive(LEAVES, _extend, max_leaves=10)

# Precedence levels of the grammar (grammar/loss.lark), loosest first.
SUM, PRODUCT, UNARY, ATOM = 1, 2, 3, 5


def render(tree, rng: random.Random) -> str:
    """Text for ``tree``, parenthesised only where the grammar needs it (sometimes more)."""
    text, _ = _render(tree, rng)
    if rng.random() < 0.2:
        text = f"# a loss\n{text}  # the end"
    return text


def _wrap(part: tuple[str, int], need: int, rng: random.Random) -> str:
    text, level = part
    if level < need or rng.random() < 0.1:
        return f"({text})"
    return text


def _space(rng: random.Random) -> str:
    return rng.choice(["", "", " ", "  ", "\t", "\n "])


def _render(tree, rng: random.Random) -> tuple[str, int]:
    kind = tree[0]
    if kind in ("num", "var", "named"):
        return tree[2], ATOM
    if kind in ("add", "sub", "mul"):
        op, need = {"add": ("+", (SUM, PRODUCT)), "sub": ("-", (SUM, PRODUCT)),
                    "mul": ("*", (PRODUCT, UNARY))}[kind]
        left = _wrap(_render(tree[1], rng), need[0], rng)
        right = _wrap(_render(tree[2], rng), need[1], rng)
        return f"{left}{_space(rng)}{op}{_space(rng)}{right}", need[0]
    if kind == "div":
        left = _wrap(_render(tree[1], rng), PRODUCT, rng)
        return f"{left}{_space(rng)}/{_space(rng)}{_wrap(_render(tree[2], rng), UNARY, rng)}", PRODUCT
    if kind in ("neg", "plus"):
        sign = "-" if kind == "neg" else "+"
        return f"{sign}{_space(rng)}{_wrap(_render(tree[1], rng), UNARY, rng)}", UNARY
    if kind == "pow":
        base = _wrap(_render(tree[1], rng), ATOM, rng)
        return f"{base}{_space(rng)}{rng.choice(['^', '**'])}{_space(rng)}{tree[3]}", UNARY
    name, *args = tree[1:]
    inner = f",{_space(rng)}".join(_render(a, rng)[0] for a in args)
    return f"{name}({_space(rng)}{inner}{_space(rng)})", ATOM


def evaluate(tree, pred: np.ndarray, target: np.ndarray, magnitude: bool = False) -> np.ndarray:
    """The loss of ``tree`` in float64; with ``magnitude``, every term taken positive.

    The magnitude (|a| + |b| for a sum, |a| * |b| for a product ...) bounds
    the size of every intermediate, so rounding error is at most a few
    epsilons times it, however the compiler rearranges the formula.
    """
    values = {"d": pred - target, "pred": pred, "target": target}
    ev = lambda t: evaluate(t, pred, target, magnitude)  # noqa: E731
    kind = tree[0]
    if kind == "var":
        value = values[tree[1]]
        return np.abs(value) if magnitude else value
    if kind in ("num", "named"):
        return np.full_like(pred, tree[1])
    if kind == "add":
        return ev(tree[1]) + ev(tree[2])
    if kind == "sub":
        return ev(tree[1]) + ev(tree[2]) if magnitude else ev(tree[1]) - ev(tree[2])
    if kind == "mul" or (kind == "call" and tree[1] == "mul"):
        a, b = tree[1:] if kind == "mul" else tree[2:]
        return ev(a) * ev(b)
    if kind == "div":
        return ev(tree[1]) / tree[2][1]
    if kind == "neg":
        return ev(tree[1]) if magnitude else -ev(tree[1])
    if kind == "plus":
        return ev(tree[1])
    if kind == "pow":
        return ev(tree[1]) ** tree[2]
    if tree[1] == "abs":
        return np.abs(ev(tree[2]))
    return ev(tree[2]) ** 2  # square


def variables(tree) -> set[str]:
    if tree[0] == "var":
        return {tree[1]}
    return set().union(*(variables(t) for t in tree[1:] if isinstance(t, tuple)))


@st.composite
def formulas(draw):
    """(tree, text) of a formula that uses the prediction (it may still cancel out)."""
    tree = draw(TREES)
    if not variables(tree) & {"d", "pred"}:
        written = draw(st.sampled_from(["d", "pred", "logits", "base"]))
        leaf = ("var", VARIABLES[written], written)
        tree = draw(st.sampled_from([(op, tree, leaf) for op in ("add", "sub", "mul")]
                                    + [(op, leaf, tree) for op in ("add", "sub", "mul")]))
    return tree, render(tree, draw(st.randoms(use_true_random=False)))


def inputs(n: int = 16, seed: int = 7) -> tuple[np.ndarray, np.ndarray]:
    rng = np.random.default_rng(seed)
    pred = rng.uniform(-1.5, 1.5, n).astype(np.float32)
    target = rng.uniform(-1.5, 1.5, n).astype(np.float32)
    return pred, target


PRED32, TARGET32 = inputs()
PRED, TARGET = PRED32.astype(np.float64), TARGET32.astype(np.float64)


def reference(tree) -> tuple[np.ndarray, np.ndarray]:
    with np.errstate(all="ignore"):
        want = evaluate(tree, PRED, TARGET)
        scale = evaluate(tree, PRED, TARGET, magnitude=True)
    assume(np.all(np.isfinite(scale)) and scale.max() < 1e30)  # float32 range, with room
    return want, scale


def compile_or_justified_rejection(tree, text: str, reduction: str = "none"):
    """The Program, or None when losscc rightly says the loss ignores the prediction."""
    try:
        program = losscc.program(text, reduction)
        event("compiled")
        return program
    except LossccError as e:
        # Justified: the loss ignores the prediction, or needs a constant that float32
        # (MindSpore's loss precision) cannot hold, like ((0.1^2)^5)^5 = 1e-50.
        if "float32" in e.message or "underflows" in e.message:
            event("rejected: a constant beyond float32")
            return None
        event("rejected: does not depend on the prediction")
        assert "does not depend on the prediction" in e.message, (text, e.render())
        assert e.start is not None
        want, scale = reference(tree)
        # Independent check that it really does not: move pred, keep target.
        with np.errstate(all="ignore"):
            moved = evaluate(tree, PRED + 0.37, TARGET)
            moved_scale = evaluate(tree, PRED + 0.37, TARGET, magnitude=True)
        assert np.all(np.abs(moved - want) <= 1e-9 * (scale + moved_scale) + 1e-12), text
        return None


@examples(300)
@given(formulas())
def test_valid_formulas_compile_and_match_the_reference(case):
    tree, text = case
    want, scale = reference(tree)
    program = compile_or_justified_rejection(tree, text)
    if program is None:
        return
    got = program.evaluate(pred=PRED, target=TARGET)
    assert got.shape == want.shape
    assert np.all(np.abs(got - want) <= 1e-9 * scale + 1e-12), (text, program.summary)


def test_formulas_without_the_prediction_are_rejected_with_a_position():
    for text in ("target^2", "3 + pi", "labels * label"):
        with pytest.raises(LossccError) as info:
            losscc.program(text)
        assert info.value.start is not None


@examples(12)
@given(case=formulas())
def test_loaded_cells_match_the_reference(case, ms_mode):
    import mindspore as ms

    tree, text = case
    want, scale = reference(tree)
    program = compile_or_justified_rejection(tree, text)
    if program is None:
        return
    cell = program.load()
    got = cell(ms.Tensor(PRED32), ms.Tensor(TARGET32)).asnumpy()
    assert got.dtype == np.float32 and got.shape == want.shape
    # float32 throughout: a few hundred epsilons of the magnitude at most.
    assert np.all(np.abs(got - want) <= 1e-4 * scale + 1e-6), (text, program.summary)


# Bad input -----------------------------------------------------------------

GRAMMAR_ALPHABET = list("dpredtargetabsquremulpiE0123456789.eE()+-*/^,#\n\t ") + [
    "**", "d", "pred", "abs(", "square(", "mul(", "1e999", "^999", "(", ")"]
ODD_CHARACTERS = list("=;[]{}:@!$%&|<>`\\'\"~?") + ["\x00", "\x7f", "é", "∑", "\u200b",
                                                     "\ud800", "\U0001f600", "\r"]

TEXTS = st.one_of(
    st.lists(st.sampled_from(GRAMMAR_ALPHABET + ODD_CHARACTERS), max_size=30).map("".join),
    st.text(max_size=30),
)


@st.composite
def mutated(draw):
    """A valid formula with a few random edits: insert, delete, replace, duplicate."""
    _, text = draw(formulas())
    rng = draw(st.randoms(use_true_random=False))
    pieces = GRAMMAR_ALPHABET + ODD_CHARACTERS
    for _ in range(draw(st.integers(1, 4))):
        i = rng.randrange(len(text) + 1)
        j = min(len(text), i + rng.randrange(1, 4))
        edit = rng.choice(["insert", "delete", "replace", "duplicate"])
        if edit == "insert":
            text = text[:i] + rng.choice(pieces) + text[i:]
        elif edit == "delete":
            text = text[:i] + text[j:]
        elif edit == "replace":
            text = text[:i] + rng.choice(pieces) + text[j:]
        else:
            text = text[:j] + text[i:j] + text[j:]
    return text


def only_positioned_errors(text: str, reduction: str = "mean") -> None:
    """Compiling ``text`` succeeds or raises a LossccError that points into it."""
    try:
        losscc.program(text, reduction)
    except LossccError as e:
        rendered = e.render()
        assert rendered.startswith("error: ")
        if e.start is None:
            # The one error about the input as a whole: there is nothing to point at.
            assert e.message.startswith("empty"), (text, rendered)
            return
        assert e.text is not None
        assert 0 <= e.start <= len(e.text) and e.start < e.end, (text, e.start, e.end)
        assert e.line >= 1 and e.column >= 1
        caret_lines = [line for line in rendered.split("\n")
                       if line.strip().startswith("|") and line.rstrip().endswith("^")]
        assert caret_lines, rendered
    # Anything else (IndexError, RecursionError, lark's own errors ...) fails the test.


@examples(400)
@given(TEXTS)
def test_random_strings_fail_only_with_positioned_errors(text):
    only_positioned_errors(text)


@examples(400)
@given(mutated())
def test_mutated_formulas_fail_only_with_positioned_errors(text):
    only_positioned_errors(text)


REDUCTIONS = st.one_of(
    st.sampled_from(["mean", "-mean", "0.5*sum", "prod", "none", "- 2 * sum", "mena", "",
                     "*mean", "0*mean", "1e999*sum", "mean sum", "(mean)", "-", "2*"]),
    st.text(alphabet=list("meansumnoprod-*0123456789.e ()"), max_size=12),
)


@examples(200)
@given(REDUCTIONS)
def test_random_reductions_fail_only_with_positioned_errors(reduction):
    only_positioned_errors("square(d)", reduction)


def run_cli(argv: list[str]) -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        try:
            code = cli_main(argv)
        except SystemExit as e:  # argparse's own usage errors
            code = e.code
    return code, out.getvalue(), err.getvalue()


@examples(150)
@given(st.one_of(TEXTS, mutated()), st.sampled_from(["mean", "-mean", "sum", "0.5*sum"]))
def test_cli_answers_bad_input_with_a_message_not_a_traceback(text, reduction):
    assume(text != "-")  # the formula '-' means: read standard input
    # "--" ends the options, so that a formula such as -d is not taken for one.
    code, out, err = run_cli(["compile", "--reduction", reduction, "--ir", "--", text])
    assert code in (0, 2), err  # 1 would be an internal error: a bug
    assert "Traceback" not in out + err
    if code == 2:
        assert err.startswith("error: ") and not out


@pytest.mark.parametrize("stdin", [b"\xff\xfe d", b"square(d)\x00", b"", b"(((("])
def test_cli_reading_bytes_from_stdin_never_shows_a_traceback(stdin):
    done = subprocess.run([sys.executable, "-m", "losscc", "compile", "-", "--ir"],
                          input=stdin, capture_output=True, timeout=60)
    assert done.returncode in (0, 2), done.stderr
    assert b"Traceback" not in done.stdout + done.stderr
    assert b"internal error" not in done.stderr


# Bugs this file found in the core, fixed there since: their reproducers stay. ---

def test_large_exponents_compile_without_a_warm_chain_cache():
    # In a fresh process every exponent from ~760 up to the allowed 1024
    # raises RecursionError: `losscc compile "d^1024"` exits 1 (internal error).
    from losscc.compiler.passes.powers import chain

    chain.cache_clear()
    assert losscc.program("d^1024").op_count == 10


@pytest.mark.parametrize("text", ["10^400*d", "E^710 * d", "(1e300)^2 + d"])
def test_overflowing_constant_powers_give_a_positioned_error(text):
    with pytest.raises(LossccError, match="overflows|beyond float32") as info:
        losscc.program(text)
    assert info.value.start is not None
    only_positioned_errors(text)


def test_overflowing_constant_products_give_an_error_or_compile():
    only_positioned_errors("d*1e308*10")
