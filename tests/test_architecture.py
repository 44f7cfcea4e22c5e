"""The package's shape: folders that show the pipeline, dependencies in one direction.

The import graph between losscc's layers is computed from the source (every
import, lazy ones inside functions included) and compared with the table of
allowed directions below: a back edge, or an import cycle between layers,
fails the test with the file and line that made it.
"""
import ast
import shutil
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "losscc"

# The top-level modules: the foundation every layer may use, and the public API.
FOUNDATION = {"errors", "floats", "limits", "files", "cache"}
API = {"__init__", "__main__"}

# Which layers each layer may import (besides itself): only the edges the source
# uses, so that a new import across layers has to be added here on purpose. The
# pipeline, in order:
# text -> language -> ir -> compiler -> series/analysis -> tools -> training -> cli.
ALLOWED = {
    "foundation": set(),
    "ir": {"foundation"},
    "language": {"foundation", "ir"},
    "compiler": {"foundation", "ir", "language"},
    "series": {"foundation", "ir", "language", "compiler"},
    "analysis": {"foundation", "ir", "language"},
    "tools": {"foundation", "ir", "language", "compiler"},
    "training": {"foundation", "language", "compiler", "tools"},
    "cli": {"foundation", "compiler", "series", "analysis", "tools", "training"},
    # losscc/__init__.py (the Python API) and __main__.py (python -m losscc)
    "api": {"foundation", "ir", "language", "compiler", "series", "analysis", "tools",
            "training", "cli"},
}


def layer_of(module: str) -> str:
    """The layer of a dotted module name inside losscc."""
    parts = module.split(".")
    assert parts[0] == "losscc", module
    if len(parts) == 1:
        return "api"
    head = parts[1]
    if head in FOUNDATION:
        return "foundation"
    if head in API:
        return "api"
    if head == "grammar":  # the grammar's package data
        return "language"
    return head


def module_name(path: Path, root: Path = PACKAGE.parent) -> str:
    rel = path.relative_to(root).with_suffix("")
    parts = list(rel.parts)
    if parts[-1] == "__init__" and len(parts) > 1:
        parts = parts[:-1] if len(parts) > 2 else parts
    return ".".join(parts)


def imports(path: Path, root: Path = PACKAGE.parent) -> list[tuple[str, int]]:
    """Every losscc module ``path`` (below ``root``) imports, with the line (relative imports
    resolved)."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    own = module_name(path, root).split(".")
    package = own if path.name == "__init__.py" and len(own) > 1 else own[:-1]
    if path.name == "__init__.py" and len(own) == 2 and own[1] == "__init__":
        package = ["losscc"]
    found = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found += [(a.name, node.lineno) for a in node.names if a.name.startswith("losscc")]
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - (node.level - 1)]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if not target.startswith("losscc"):
                continue
            for alias in node.names:  # from .. import ir: the module losscc.ir
                sub = f"{target}.{alias.name}"
                is_module = (root / sub.replace(".", "/")).with_suffix(".py").exists()
                is_package = (root / sub.replace(".", "/") / "__init__.py").exists()
                found.append((sub if is_module or is_package else target, node.lineno))
    return found


def edges(package: Path = PACKAGE) -> list[tuple[str, str, str]]:
    """(importing layer, imported layer, file:line) for every import in ``package``."""
    root = package.parent
    out = []
    for path in sorted(package.rglob("*.py")):
        source = layer_of(module_name(path, root))
        for target, line in imports(path, root):
            out.append((source, layer_of(target), f"{path.relative_to(root)}:{line}"))
    return out


def test_the_layers_are_the_ones_the_table_names():
    subpackages = {p.parent.name for p in PACKAGE.glob("*/__init__.py")} - {"grammar"}
    assert subpackages == set(ALLOWED) - {"foundation", "api"}
    modules = {p.stem for p in PACKAGE.glob("*.py")}
    assert modules == FOUNDATION | API
    assert len(modules) <= 8 and len(subpackages) >= 4


def test_no_import_points_backwards():
    bad = [f"{where}: {source} imports {target}" for source, target, where in edges()
           if source != target and target not in ALLOWED[source]]
    assert not bad, "imports against the layer order:\n" + "\n".join(bad)


def test_every_allowed_direction_is_used():
    """An unused edge would let a new import across layers in unnoticed.

    The API is exempt: it is the top, and may import any layer it needs.
    """
    used = {(source, target) for source, target, _ in edges() if source != target}
    unused = [f"{source} -> {target}" for source, targets in ALLOWED.items() if source != "api"
              for target in sorted(targets) if (source, target) not in used]
    assert not unused, "allowed but never imported: " + ", ".join(unused)


def test_the_allowed_directions_have_no_cycle():
    order, state = [], {}

    def visit(layer):
        if state.get(layer) == "open":
            raise AssertionError(f"a cycle through {layer}")
        if state.get(layer) == "done":
            return
        state[layer] = "open"
        for dependency in ALLOWED[layer]:
            visit(dependency)
        state[layer] = "done"
        order.append(layer)

    for layer in ALLOWED:
        visit(layer)
    assert order[0] == "foundation"


@pytest.mark.parametrize("module", ["files", "cache", "floats", "limits", "errors"])
def test_the_foundation_needs_no_layer(module):
    targets = {layer_of(t) for t, _ in imports(PACKAGE / f"{module}.py")}
    assert targets <= {"foundation"}, targets


def test_the_checker_sees_a_back_edge(tmp_path):
    """The test above can fail: a back edge planted in a copy of the package is reported."""
    copy = tmp_path / "losscc"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    (copy / "ir" / "_planted_back_edge.py").write_text("from ..compiler import program\n",
                                                        encoding="utf-8")
    found = [(s, t) for s, t, where in edges(copy) if "_planted_back_edge" in where]
    assert found == [("ir", "compiler")]
    assert "compiler" not in ALLOWED["ir"]
    assert len(edges(copy)) == len(edges()) + 1  # the copy is read like the package


def test_architecture_doc_lists_every_rule():
    from losscc.compiler.passes.fold import FOLD
    from losscc.compiler.passes.poly import LOWER_REGION
    from losscc.compiler.passes.powers import ADDITION_CHAIN
    from losscc.compiler.passes.robust import LOWERINGS
    from losscc.compiler.passes.rules import RULES

    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    listed = doc.split("<!-- rules: begin -->")[1].split("<!-- rules: end -->")[0]
    lines = [line for line in listed.splitlines() if line and not line.startswith("```")]
    code = [str(rule) for rules in (FOLD, RULES, LOWER_REGION, LOWERINGS, ADDITION_CHAIN) for rule in rules]
    assert lines == code


def test_architecture_doc_lists_every_limit():
    import losscc.limits

    doc = (PACKAGE.parent / "docs" / "architecture.md").read_text(encoding="utf-8")
    for name in dir(losscc.limits):
        if name.startswith("MAX_"):
            assert f"| `{name}` | {getattr(losscc.limits, name)} |" in doc, name
