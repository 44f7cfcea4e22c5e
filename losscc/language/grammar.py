"""The formula grammar (``grammar/loss.lark``, shipped as ``losscc.grammar``) and its parser.

lark's LALR parser reads the grammar. Building its parse tables takes a fifth
of ``losscc compile``'s time, so the tables ship inside the package as JSON
(``grammar/loss.tables.json``), made from the grammar by

    python -m losscc.grammar    # in a checkout installed with pip install -e .

JSON holds no code: loading it can only give lark numbers, names and
patterns, and the options lark would call (callbacks, a tree class, a
post-lexer) are given here, not read. The file says which grammar (SHA-256)
and which lark version it was made from; when either differs from what is
installed, the parser is built from the grammar in memory instead. Nothing
is read from or written to a cache directory.

This module also answers questions about the grammar's terminals, so that no
pattern of the grammar is written a second time in Python (the comment
terminal, for one).

>>> one_line("square(d)   # the MSE\\n  + abs(d)")
'square(d) + abs(d)'
>>> tables_fingerprint(grammar_text())["format"]
1
"""
from __future__ import annotations

import functools
import hashlib
import json
import re
from importlib import resources
from typing import Any, Optional

START_RULES = ["formula", "reduction"]
OPTIONS = {"parser": "lalr", "start": START_RULES, "propagate_positions": True,
           "maybe_placeholders": True}
TABLES_FILE = "loss.tables.json"
TABLES_FORMAT = 1
# Options lark would call or that change what it calls; never taken from the file.
_HARMLESS = {"postlex": None, "transformer": None, "lexer_callbacks": {}, "tree_class": None,
             "_plugins": {}, "regex": False, "use_bytes": False, "debug": False,
             "g_regex_flags": 0, "propagate_positions": True}
_INT_KEYS = "__int_keys__"  # JSON keys are strings: a dict with int keys is written as pairs


def grammar_text() -> str:
    return resources.files("losscc.grammar").joinpath("loss.lark").read_text("utf-8")


@functools.lru_cache(maxsize=1)
def parser() -> Any:
    """The LALR parser: from the shipped tables when they match, else built in memory."""
    grammar = grammar_text()
    loaded = tables_parser(_shipped_tables(), grammar)
    if loaded is not None:
        return loaded
    from lark import Lark

    return Lark(grammar, **OPTIONS)


def tables_fingerprint(grammar: str) -> dict:
    """What a tables file must say about itself to be used with ``grammar``."""
    import lark

    return {"format": TABLES_FORMAT, "lark": lark.__version__,
            "grammar_sha256": hashlib.sha256(grammar.encode("utf-8")).hexdigest(),
            "options": json.dumps(OPTIONS, sort_keys=True)}


def tables_document(grammar: str) -> bytes:
    """The parse tables of ``grammar`` as the JSON document losscc ships."""
    from lark import Lark
    from lark.grammar import Rule
    from lark.lexer import TerminalDef

    data, memo = Lark(grammar, **OPTIONS).memo_serialize([TerminalDef, Rule])
    document = dict(tables_fingerprint(grammar), data=_encode(data), memo=_encode(memo))
    return json.dumps(document, sort_keys=True, separators=(",", ":")).encode("ascii")


def tables_parser(document: Optional[bytes], grammar: str) -> Any:
    """A lark parser from a tables document, or None if it is not for this grammar and lark."""
    if document is None:
        return None
    try:
        parsed = json.loads(document, object_hook=_int_keyed)
    except (ValueError, RecursionError):  # UnicodeDecodeError is a ValueError
        return None
    fingerprint = tables_fingerprint(grammar)
    if not isinstance(parsed, dict) or any(parsed.get(k) != v for k, v in fingerprint.items()):
        return None
    from lark import Lark

    try:
        return Lark._load_from_dict(parsed["data"], parsed["memo"], **_HARMLESS)
    except Exception:  # noqa: BLE001 - tables lark cannot read: build them instead
        return None


def _shipped_tables() -> Optional[bytes]:
    try:
        return resources.files("losscc.grammar").joinpath(TABLES_FILE).read_bytes()
    except OSError:
        return None


def _encode(value: Any) -> Any:
    """lark's serialised tables as JSON values: int-keyed dicts become key-value pairs."""
    if isinstance(value, dict):
        if all(isinstance(k, str) for k in value):
            if _INT_KEYS in value:
                raise ValueError(f"the key {_INT_KEYS} is reserved")
            return {k: _encode(v) for k, v in value.items()}
        return {_INT_KEYS: [[k, _encode(v)] for k, v in value.items()]}
    if isinstance(value, (list, tuple)):
        return [_encode(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    raise TypeError(f"cannot write {type(value).__name__} into the tables")


def _int_keyed(pairs: dict) -> dict:
    """json.loads' object hook, the inverse of _encode (lists stand for lark's tuples)."""
    if _INT_KEYS not in pairs:
        return pairs
    out = {}
    for key, value in pairs[_INT_KEYS]:
        if not isinstance(key, int) or isinstance(key, bool):
            raise ValueError("a key that is not an integer")
        out[key] = value
    return out


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


def write_tables() -> str:
    """Write the tables file next to the grammar (``python -m losscc.grammar``); its path.

    "Next to the grammar" is where ``losscc.grammar`` is imported from: the
    checkout's ``grammar/`` under an editable install.
    """
    from pathlib import Path

    from ..files import write_atomic_with

    path = Path(str(resources.files("losscc.grammar"))) / TABLES_FILE
    document = tables_document(grammar_text())
    write_atomic_with(path, lambda f: f.write(document + b"\n"))
    return str(path)
