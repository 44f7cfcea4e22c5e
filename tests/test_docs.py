"""The docs' `losscc compile`, `analyze` and `taylor` examples print what the docs show.

Only complete examples are checked (blocks with an elided "..." line are
illustrations). These commands are deterministic and need no MindSpore;
train and compare examples (timings, minutes of training) are checked by
tests/test_train.py and tests/test_compare.py instead.
"""
import re
import shlex
from pathlib import Path

import pytest

from losscc.cli.main import main

DOCS = sorted((Path(__file__).parent.parent / "docs").glob("*.md")) + [
    Path(__file__).parent.parent / "README.md"]


def examples():
    for doc in DOCS:
        for block in re.findall(r"```\n(.*?)```", doc.read_text(encoding="utf-8"), re.S):
            lines = block.splitlines()
            for i, line in enumerate(lines):
                if not line.startswith(CHECKED):
                    continue
                output = []
                for out in lines[i + 1:]:
                    if out.startswith("$ "):
                        break
                    output.append(out)
                if not any(out.rstrip().endswith("...") for out in output):
                    yield pytest.param(line[2:], "\n".join(output) + "\n", id=f"{doc.name}: {line[2:]}")


CHECKED = ("$ losscc compile", "$ losscc analyze", "$ losscc taylor")
EXAMPLES = list(examples())


def test_docs_have_examples():
    assert len(EXAMPLES) >= 5


@pytest.mark.parametrize("command,expected", EXAMPLES)
def test_documented_output(command, expected, capsys, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # an example that writes a file writes it here
    argv = shlex.split(command)[1:]
    status = main(argv)
    captured = capsys.readouterr()
    shown = captured.out + captured.err
    assert shown == expected
    assert status == (2 if shown.startswith("error:") else 0)
