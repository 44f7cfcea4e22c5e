"""``python -m losscc.grammar``: rewrite the shipped parse tables after editing loss.lark.

It writes wherever ``losscc.grammar`` is imported from: this folder when the
checkout is installed editable (``pip install -e .``, as the README says). A
plain checkout without the install has no ``losscc.grammar`` at all (the name
exists only through pyproject.toml's package-dir), so the command needs it.
"""
from losscc.language.grammar import write_tables

if __name__ == "__main__":
    print(f"wrote {write_tables()}")
