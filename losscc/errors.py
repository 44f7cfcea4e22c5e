"""Every error a user can cause is a LossccError that knows where it happened.

Library code raises; only the CLI turns errors into messages and exit codes.
An error carries the text it is about (a formula, a reduction) and a span in
it, so it can be shown the way compilers show errors:

    error: unknown function 'log'
     --> formula, line 1, column 1
      |
    1 | log(d)
      | ^^^
    hint: ...
"""
from __future__ import annotations

import re
from typing import Optional


class LossccError(Exception):
    """A problem with the user's input (formula, reduction, options, files).

    ``start`` and ``end`` are character offsets into ``text`` (end exclusive);
    both are None when the error is about the input as a whole.

    >>> e = LossccError("unknown variable 'x'", text="square(x)", start=7, end=8)
    >>> (e.line, e.column)
    (1, 8)
    """

    def __init__(
        self,
        message: str,
        *,
        text: Optional[str] = None,
        start: Optional[int] = None,
        end: Optional[int] = None,
        hint: Optional[str] = None,
        source: str = "formula",
    ) -> None:
        super().__init__(message)
        self.message = message
        self.text = text
        self.start = start
        self.end = end if end is not None else (None if start is None else start + 1)
        self.hint = hint
        self.source = source

    @property
    def line(self) -> Optional[int]:
        if self.text is None or self.start is None:
            return None
        return len(LINE_BREAK.findall(self.text, 0, self.start)) + 1

    @property
    def column(self) -> Optional[int]:
        if self.text is None or self.start is None:
            return None
        return self.start - _line_start(self.text, self.start) + 1

    def __str__(self) -> str:
        return self.render()

    def render(self) -> str:
        """The full message: headline, position, the line with a caret, hint."""
        out = [f"error: {self.message}"]
        if self.line is not None:
            assert self.text is not None and self.start is not None
            line_start = _line_start(self.text, self.start)
            found = LINE_BREAK.search(self.text, self.start)
            line_end = found.start() if found else len(self.text)
            col = self.column or 1
            width = max(1, min(self.end or self.start + 1, line_end) - self.start)
            # A long line is shown around the fault only: a window, marked '...' where cut.
            left = max(line_start, self.start - SHOWN_AROUND)
            right = min(line_end, self.start + width + SHOWN_AROUND)
            width = max(1, min(width, right - self.start))  # a fault at the end still shows
            before = "..." if left > line_start else ""
            after = "..." if right < line_end else ""
            # one visible character per character, so the caret stays under the fault
            shown = "".join(ch if ch.isprintable() else "\ufffd"
                            for ch in self.text[left:right].expandtabs(1))
            gutter = " " * len(str(self.line))
            out.append(f"{gutter}--> {self.source}, line {self.line}, column {col}")
            out.append(f"{gutter} |")
            out.append(f"{self.line} | {before}{shown}{after}")
            out.append(f"{gutter} | {' ' * (len(before) + self.start - left)}{'^' * width}")
        if self.hint:
            out.append(f"hint: {self.hint}")
        return "\n".join(out)


# What starts a new line, as editors show it: Unicode's line and paragraph
# separators too (the grammar reads them as blanks).
LINE_BREAK = re.compile("[\n\u2028\u2029]")
SHOWN_AROUND = 80  # characters shown on each side of the fault in a long line


def _line_start(text: str, position: int) -> int:
    """The offset where the line holding ``position`` starts."""
    starts = [m.end() for m in LINE_BREAK.finditer(text, 0, position)]
    return starts[-1] if starts else 0


def closest(name: str, candidates: list[str]) -> Optional[str]:
    """The candidate most like ``name``, if any is close enough to suggest."""
    import difflib

    found = difflib.get_close_matches(name, candidates, n=1, cutoff=0.5)
    return found[0] if found else None
