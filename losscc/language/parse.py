"""Text → parse tree, with errors a person can act on.

The grammar is ``grammar/loss.lark`` (see ``losscc.language.grammar``). This
module only turns text into a lark tree; giving the tree a meaning is the job
of the front ends ``losscc.language.to_ir`` (→ IR) and
``losscc.language.to_sympy`` (→ SymPy).

>>> parse("square(d - 1)").data
'call'
"""
from __future__ import annotations

import re
from typing import Any

from ..errors import LossccError
from ..limits import MAX_FORMULA_CODE, MAX_FORMULA_LENGTH
from .grammar import code_only, parser

EXAMPLE = "square(d)"


def parse(text: str, start: str = "formula", source: str = "formula") -> Any:
    """Parse ``text`` from the grammar rule ``start``; raise LossccError on bad input."""
    if not isinstance(text, str):
        raise LossccError(f"the {source} must be a string, got {type(text).__name__}")
    _check_size(text, source)
    _check_not_empty(text, source)
    _check_parentheses(text, source)
    from lark.exceptions import UnexpectedCharacters, UnexpectedInput, UnexpectedToken

    try:
        return parser().parse(text, start=start)
    except UnexpectedCharacters as e:
        char = text[e.pos_in_stream]
        hint = None
        if char in "'\"":
            hint = "the language has no strings; a formula is arithmetic on d, pred and target"
        elif char in "=;[]{}:@!$%&|<>`\\":
            hint = f"'{char}' is not part of the formula language (see docs/grammar.md)"
        raise LossccError(
            f"unexpected character {char!r}", text=text, start=e.pos_in_stream,
            hint=hint or f"expected {_expected(e.allowed)}", source=source,
        ) from None
    except UnexpectedToken as e:
        token = e.token
        if token.type == "$END":
            pos = _end_of_code(text)
            raise LossccError(
                f"the {source} ends too early", text=text, start=pos,
                hint=f"expected {_expected(e.expected)} here", source=source,
            ) from None
        raise LossccError(
            f"unexpected {_describe_token(token)}", text=text, start=token.start_pos,
            end=token.end_pos, hint=f"expected {_expected(e.expected)}", source=source,
        ) from None
    except UnexpectedInput as e:  # UnexpectedEOF and any future kind
        pos = getattr(e, "pos_in_stream", None) or _end_of_code(text)
        raise LossccError(f"cannot parse the {source}", text=text, start=pos, source=source) from None


def _check_size(text: str, source: str) -> None:
    """Refuse, before any parsing, a text whose size alone would take too long to compile."""
    if len(text) > MAX_FORMULA_LENGTH:
        raise LossccError(
            f"the {source} is longer than {MAX_FORMULA_LENGTH} characters", text=text,
            start=MAX_FORMULA_LENGTH, source=source, hint="this is where the limit is reached")
    code = code_only(text)
    seen = 0
    for match in _CODE.finditer(code):
        seen += match.end() - match.start()
        if seen > MAX_FORMULA_CODE:
            raise LossccError(
                f"the {source} has more than {MAX_FORMULA_CODE} characters of code (comments "
                "and blanks not counted)", text=text, start=match.end() - (seen - MAX_FORMULA_CODE),
                source=source, hint="this is where the limit is reached; a loss that long "
                "takes too long to compile: write it shorter (powers, square(...))")


_CODE = re.compile(r"\S+")


def _check_not_empty(text: str, source: str) -> None:
    if not code_only(text).strip():
        raise LossccError(
            f"empty {source}",
            hint=f"write an expression in d = prediction - target, e.g. {EXAMPLE}"
            if source == "formula" else "use mean, sum, none, prod, -mean or e.g. 0.5*sum",
            source=source,
        )


def _check_parentheses(text: str, source: str) -> None:
    """Name the parenthesis that is unmatched: lark would only see a later token."""
    open_at: list[int] = []
    for i, ch in enumerate(code_only(text)):
        if ch == "(":
            open_at.append(i)
        elif ch == ")":
            if not open_at:
                raise LossccError(
                    "unmatched ')'", text=text, start=i,
                    hint="remove it, or add the '(' it closes", source=source,
                )
            open_at.pop()
    if open_at:
        raise LossccError(
            "'(' is never closed", text=text, start=open_at[-1],
            hint="add the ')' that closes it", source=source,
        )


def _end_of_code(text: str) -> int:
    """The offset just after the last character that is not blank or comment."""
    return len(code_only(text).rstrip())


_TERMINAL_WORDS = {"NUMBER": "a number", "NAME": "a name", "POW": "'^'", "$END": "the end"}


def _expected(terminals: Any) -> str:
    words = set()
    for name in terminals:
        if name in _TERMINAL_WORDS:
            words.add(_TERMINAL_WORDS[name])
            continue
        try:
            pattern = parser().get_terminal(name).pattern
            words.add(f"'{pattern.value}'")
        except KeyError:
            words.add(name.lower())
    listed = sorted(words)
    if len(listed) == 1:
        return listed[0]
    return ", ".join(listed[:-1]) + " or " + listed[-1]


def _describe_token(token: Any) -> str:
    if token.type == "NUMBER":
        return f"number {token.value}"
    if token.type == "NAME":
        return f"name '{token.value}'"
    return f"'{token.value}'"
