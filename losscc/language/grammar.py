"""The formula grammar (``grammar/loss.lark``, shipped as ``losscc.grammar``) and its parser.

lark's LALR parser reads the grammar; this module builds it once per
process and answers questions about the grammar's terminals, so that no
pattern of the grammar is written a second time in Python (the comment
terminal, for one).

>>> one_line("square(d)   # the MSE\\n  + abs(d)")
'square(d) + abs(d)'
"""
from __future__ import annotations

import functools
import re
from importlib import resources
from typing import Any

from ..cache import cache_dir

START_RULES = ["formula", "reduction"]


def grammar_text() -> str:
    return resources.files("losscc.grammar").joinpath("loss.lark").read_text("utf-8")


@functools.lru_cache(maxsize=1)
def parser() -> Any:
    from lark import Lark

    grammar = grammar_text()
    return Lark(
        grammar,
        parser="lalr",
        start=START_RULES,
        propagate_positions=True,
        maybe_placeholders=True,
        cache=_tables_cache(grammar),
    )


def _tables_cache(grammar: str) -> "str | bool":
    """Where lark may keep the grammar's parse tables (a fifth of `losscc compile`'s time).

    A file in losscc's cache directory, named after the grammar and Python
    version (lark checks the grammar's hash inside it too); no caching when the
    directory is not there and writable: compile must work everywhere.
    """
    import hashlib
    import os
    import sys

    directory = cache_dir()
    if not (directory.is_dir() and os.access(directory, os.W_OK)):
        return False
    digest = hashlib.sha256(grammar.encode("utf-8")).hexdigest()[:16]
    return str(directory / f"grammar-{digest}-py{sys.version_info[0]}{sys.version_info[1]}.lark")


def terminal_pattern(name: str) -> str:
    """The regular expression of the grammar's terminal ``name``."""
    return parser().get_terminal(name).pattern.to_regexp()


@functools.lru_cache(maxsize=1)
def _comment() -> "re.Pattern[str]":
    return re.compile(terminal_pattern("COMMENT"))


def code_only(text: str) -> str:
    """``text`` with every comment blanked out, positions unchanged."""
    return _comment().sub(lambda m: " " * len(m.group()), text)


def one_line(text: str, limit: int = 120) -> str:
    """The formula without comments, on one line, cut to ``limit`` characters."""
    code = " ".join(code_only(text).split())
    return code if len(code) <= limit else code[: limit - 3] + "..."
