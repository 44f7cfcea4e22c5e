"""``python -m losscc.grammar``: rewrite the shipped parse tables after editing loss.lark."""
from losscc.language.grammar import write_tables

if __name__ == "__main__":
    print(f"wrote {write_tables()}")
