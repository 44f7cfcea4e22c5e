"""Hostile inputs and a hostile machine: every case a review found, kept found.

The threat is another account on the same machine. Where the tests run as
root, "another account" is uid 65534 (nobody): files are planted and then
chowned to it, as that account would leave them; otherwise the same files
are planted by the test's own user, and the cases that need another owner
are skipped. Attacks run losscc in a fresh process, as a victim would.
Inputs that once took unbounded time or memory, or failed with a traceback,
must now end quickly with a LossccError (exit 2).
"""
from __future__ import annotations

import hashlib
import importlib.util
import inspect
import json
import linecache
import os
import pickle
import py_compile
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from guards import no_hang

import losscc
from losscc import LossccError
from losscc.cache import CacheDir, cache_location
from losscc.compiler import load

OTHER = 65534  # nobody
AS_ROOT = hasattr(os, "geteuid") and os.geteuid() == 0
needs_root = pytest.mark.skipif(not AS_ROOT, reason="plants files as another account: needs root")
PLAIN_SOURCE = "class Probe:\n    def value(self, x):\n        return x + 1\n"


def plant(path: Path) -> None:
    """Make ``path`` look left there by another account (root only; else it stays ours)."""
    if AS_ROOT:
        os.lchown(path, OTHER, OTHER)


def run(*argv: str, env: dict | None = None, timeout: float = 120,
        **kwargs) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-m", "losscc", *argv], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, "GLOG_v": "4", **(env or {})},
                          **kwargs)


def module_file(source: str) -> str:
    return f"losscc_generated_{hashlib.sha256(source.encode()).hexdigest()[:24]}.py"


def load_in_fresh_process(cache: Path, source: str) -> subprocess.CompletedProcess:
    """Load ``source`` through losscc's loader in a new process; print the probe's answer."""
    code = ("import sys, losscc.compiler.load as L\n"
            f"cls = L.load_class({source!r}, 'Probe')\n"
            "print(cls().value(1), sys.modules[cls.__module__].__file__)\n")
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120,
                          env={**os.environ, "LOSSCC_CACHE_DIR": str(cache)})


@pytest.fixture
def private(tmp_path: Path) -> Path:
    """A cache directory as losscc makes it: the user's, mode 0700."""
    os.chmod(tmp_path, 0o755)
    cache = tmp_path / "cache"
    CacheDir(str(cache)).close()
    return cache


@pytest.fixture
def shared(tmp_path: Path) -> Path:
    """A shared directory such as /tmp/losscc: sticky, world-writable, another account's."""
    os.chmod(tmp_path, 0o755)
    directory = tmp_path / "shared"
    directory.mkdir()
    os.chmod(directory, 0o1777)
    plant(directory)
    return directory


# Code execution through bytecode -------------------------------------------------

def evil_pyc(next_to: Path, marker: Path) -> None:
    """A pyc that Python would load without looking at the .py (UNCHECKED_HASH)."""
    evil = next_to.parent / "evil_source.py"
    evil.write_text(f"open({str(marker)!r}, 'w').write('ran')\n"
                    "class Probe:\n    def value(self, x):\n        return -1\n")
    target = importlib.util.cache_from_source(str(next_to))
    py_compile.compile(str(evil), cfile=target, dfile=str(next_to),
                       invalidation_mode=py_compile.PycInvalidationMode.UNCHECKED_HASH)
    evil.unlink()
    plant(Path(target))
    plant(Path(target).parent)


def test_a_planted_pyc_in_the_cache_is_never_run(private, tmp_path):
    marker = tmp_path / "pwned"
    path = private / module_file(PLAIN_SOURCE)
    path.write_text(PLAIN_SOURCE)
    os.chmod(path, 0o600)
    evil_pyc(path, marker)
    done = load_in_fresh_process(private, PLAIN_SOURCE)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split()[0] == "2" and not marker.exists()


def test_loading_writes_no_bytecode(private):
    done = load_in_fresh_process(private, PLAIN_SOURCE)
    assert done.returncode == 0, done.stderr
    assert not (private / "__pycache__").exists()
    assert sorted(p.name for p in private.iterdir()) == [module_file(PLAIN_SOURCE)]


def test_a_shared_cache_directory_with_a_planted_pyc_is_refused(shared, tmp_path):
    marker = tmp_path / "pwned"
    path = shared / module_file(PLAIN_SOURCE)
    path.write_text(PLAIN_SOURCE)
    plant(path)
    evil_pyc(path, marker)
    done = load_in_fresh_process(shared, PLAIN_SOURCE)
    assert not marker.exists()
    if AS_ROOT:  # another account's directory: refused, with the reason
        assert done.returncode != 0 and "not by you" in done.stderr, done.stderr
    else:  # our own, but world-writable
        assert done.returncode != 0 and "writable by others" in done.stderr, done.stderr


def test_what_mindspore_reads_is_what_was_executed(private, monkeypatch):
    """GRAPH_MODE parses a cell's source through inspect: a file changed later does not count."""
    monkeypatch.setenv("LOSSCC_CACHE_DIR", str(private))
    cls = load.load_class(PLAIN_SOURCE.replace("Probe", "Verified"), "Verified")
    path = Path(sys.modules[cls.__module__].__file__)
    assert path.parent == private  # the file is this test's to change, not the session cache's
    path.write_text(PLAIN_SOURCE.replace("x + 1", "x + 666").replace("Probe", "Verified"))
    linecache.checkcache()  # what inspect.findsource does first
    assert "x + 1" in inspect.getsource(cls.value)
    linecache.clearcache()  # and if someone empties linecache: MindSpore's fallback attribute
    lines, first = cls.value.source
    assert "x + 1" in "".join(lines) and first == 2


# Code execution through the grammar-table cache (old versions pickled it there) ----------

def old_grammar_cache_name(directory: Path) -> Path:
    from losscc.language.grammar import grammar_text

    digest = hashlib.sha256(grammar_text().encode("utf-8")).hexdigest()[:16]
    return directory / f"grammar-{digest}-py{sys.version_info[0]}{sys.version_info[1]}.lark"


class Boom:
    marker = ""

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


@pytest.mark.parametrize("where", ["private", "shared"])
def test_a_planted_pickle_is_never_unpickled(where, private, shared, tmp_path):
    directory = private if where == "private" else shared
    marker = tmp_path / "pwned"
    Boom.marker = str(marker)
    planted = old_grammar_cache_name(directory)
    planted.write_bytes(b"whatever-hash\n" + pickle.dumps(Boom()))
    plant(planted)
    done = run("compile", "square(d)", "--ir", env={"LOSSCC_CACHE_DIR": str(directory)})
    assert done.returncode == 0, done.stderr
    assert not marker.exists()


def test_compile_never_touches_a_cache_file_through_a_planted_link(shared, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = old_grammar_cache_name(shared)
    link.symlink_to(victim)
    plant(link)
    done = run("compile", "square(d)", "--ir", env={"LOSSCC_CACHE_DIR": str(shared)})
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "precious\n"


def test_a_link_at_an_entry_is_replaced_not_followed(private, tmp_path):
    victim = tmp_path / "victim"
    victim.write_text("precious\n")
    link = private / module_file(PLAIN_SOURCE)
    link.symlink_to(victim)
    plant(link)
    done = load_in_fresh_process(private, PLAIN_SOURCE)
    assert done.returncode == 0, done.stderr
    assert victim.read_text() == "precious\n"
    assert not link.is_symlink() and link.read_text() == PLAIN_SOURCE


# The cache directory's rules -------------------------------------------------------

def cache_error(directory: Path) -> str:
    with pytest.raises(LossccError) as info:
        CacheDir(str(directory)).close()
    assert info.value.source == "cache"
    return info.value.render()


@pytest.mark.parametrize("mode", [0o777, 0o775, 0o1777])
def test_a_group_or_world_writable_cache_is_refused(tmp_path, mode):
    os.chmod(tmp_path, 0o755)
    (tmp_path / "c").mkdir()
    os.chmod(tmp_path / "c", mode)
    text = cache_error(tmp_path / "c")
    assert "writable by others" in text
    assert "never a shared one" in text  # the hint does not invite /tmp


@needs_root
def test_a_cache_owned_by_another_account_is_refused(tmp_path):
    os.chmod(tmp_path, 0o755)
    (tmp_path / "c").mkdir(mode=0o700)
    os.chown(tmp_path / "c", OTHER, OTHER)
    assert "not by you" in cache_error(tmp_path / "c")


@needs_root
def test_a_cache_in_another_accounts_directory_is_refused(tmp_path):
    os.chmod(tmp_path, 0o755)
    (tmp_path / "theirs").mkdir(mode=0o755)
    os.chown(tmp_path / "theirs", OTHER, OTHER)
    assert "could replace the cache" in cache_error(tmp_path / "theirs" / "cache")
    assert not (tmp_path / "theirs" / "cache").exists()


def test_a_cache_below_a_world_writable_directory_without_sticky_bit_is_refused(tmp_path):
    os.chmod(tmp_path, 0o755)
    (tmp_path / "open").mkdir()
    os.chmod(tmp_path / "open", 0o777)
    assert "no sticky bit" in cache_error(tmp_path / "open" / "cache")


@needs_root
def test_a_link_planted_in_a_sticky_directory_is_refused(shared, tmp_path):
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir(mode=0o700)
    (shared / "cache").symlink_to(elsewhere)
    plant(shared / "cache")
    assert "symbolic link owned by" in cache_error(shared / "cache")
    assert list(elsewhere.iterdir()) == []


def test_a_cache_of_ones_own_in_a_sticky_directory_is_made_private(tmp_path):
    os.chmod(tmp_path, 0o755)
    like_tmp = tmp_path / "tmp"  # sticky and world-writable, like /tmp (and root's or ours)
    like_tmp.mkdir()
    os.chmod(like_tmp, 0o1777)
    CacheDir(str(like_tmp / "mine")).close()
    assert stat.S_IMODE(os.stat(like_tmp / "mine").st_mode) == 0o700


@needs_root
def test_a_sticky_directory_of_another_account_is_refused(shared):
    """Its owner may rename what others make in it."""
    assert "could replace the cache" in cache_error(shared / "mine")


def test_missing_parents_are_created_private(tmp_path):
    os.chmod(tmp_path, 0o755)
    CacheDir(str(tmp_path / "a" / "b" / "losscc")).close()
    for part in (tmp_path / "a", tmp_path / "a" / "b", tmp_path / "a" / "b" / "losscc"):
        assert stat.S_IMODE(os.stat(part).st_mode) == 0o700


@pytest.mark.parametrize("how", ["another owner", "group-writable", "a fifo", "invalid UTF-8"])
def test_untrusted_or_damaged_entries_are_ignored_and_replaced(private, how):
    if how == "another owner" and not AS_ROOT:
        pytest.skip("needs root")
    entry = private / module_file(PLAIN_SOURCE)
    if how == "a fifo":
        os.mkfifo(entry, 0o600)
    else:
        damaged = b"\xff\xfe not python"
        entry.write_bytes(damaged if how == "invalid UTF-8" else PLAIN_SOURCE.encode())
        os.chmod(entry, 0o620 if how == "group-writable" else 0o600)
        if how == "another owner":
            os.chown(entry, OTHER, OTHER)
    if how != "invalid UTF-8":  # a file of ours, only damaged: read, compared, replaced
        with CacheDir(str(private)) as cache:
            assert cache.read(entry.name, 1 << 20) is None
    done = load_in_fresh_process(private, PLAIN_SOURCE)
    assert done.returncode == 0, done.stderr
    st = os.lstat(entry)
    assert stat.S_ISREG(st.st_mode) and st.st_uid == os.geteuid()
    assert stat.S_IMODE(st.st_mode) == 0o600 and entry.read_text() == PLAIN_SOURCE


def test_an_unusable_default_cache_means_no_file_not_an_error(tmp_path, monkeypatch):
    home = tmp_path / "home"
    (home / ".cache" / "losscc").mkdir(parents=True)
    os.chmod(home / ".cache" / "losscc", 0o777)  # ours, but anyone could plant there
    monkeypatch.setenv("HOME", str(home))
    monkeypatch.delenv("LOSSCC_CACHE_DIR")
    monkeypatch.delenv("XDG_CACHE_HOME", raising=False)
    cls = load.load_class(PLAIN_SOURCE.replace("Probe", "Homeless"), "Homeless")
    assert cls().value(1) == 2
    assert sys.modules[cls.__module__].__file__.startswith("<losscc ")
    assert list((home / ".cache" / "losscc").iterdir()) == []


def test_the_cache_location_follows_the_xdg_rules(tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))  # what expanduser reads, whatever the mapping says
    env = {"HOME": str(tmp_path)}
    assert cache_location({"LOSSCC_CACHE_DIR": "~/x", **env}).path == str(tmp_path / "x")
    assert cache_location({"XDG_CACHE_HOME": "relative", **env}).path == str(
        tmp_path / ".cache" / "losscc")  # the spec: relative values are ignored
    assert cache_location({"XDG_CACHE_HOME": "~/c", **env}).path == str(
        tmp_path / "c" / "losscc")
    assert cache_location({"LOSSCC_CACHE_DIR": "", **env}).configured is False


def test_a_tilde_in_the_cache_variable_makes_no_directory_named_tilde(tmp_path):
    done = run("cache", env={"LOSSCC_CACHE_DIR": "~/lc", "HOME": str(tmp_path)}, cwd=tmp_path)
    assert done.returncode == 0 and str(tmp_path / "lc") in done.stdout
    assert not (tmp_path / "~").exists()


def test_a_bad_configured_cache_is_exit_2_with_the_reason(tmp_path):
    (tmp_path / "c").mkdir()
    os.chmod(tmp_path / "c", 0o777)
    done = run("cache", env={"LOSSCC_CACHE_DIR": str(tmp_path / "c")})
    assert done.returncode == 2 and "writable by others" in done.stderr
    assert "Traceback" not in done.stderr


def test_fusion_scratch_is_a_private_subdirectory(private, monkeypatch):
    from losscc.compiler import fuse

    monkeypatch.setenv("LOSSCC_CACHE_DIR", str(private))
    monkeypatch.delenv(fuse.SCRATCH_ENV, raising=False)
    scratch = fuse.scratch_dir()
    assert scratch == private / "graph-kernel"
    assert stat.S_IMODE(os.stat(scratch).st_mode) == 0o700


def test_clearing_the_cache_never_follows_a_link(private, tmp_path):
    victim = tmp_path / "victim"
    victim.mkdir()
    (victim / "keep").write_text("precious")
    (private / "graph-kernel").symlink_to(victim)
    (private / "mine.txt").write_text("not losscc's")
    done = run("cache", "clear", env={"LOSSCC_CACHE_DIR": str(private)})
    assert done.returncode == 0, done.stderr
    assert (victim / "keep").read_text() == "precious"
    assert sorted(p.name for p in private.iterdir()) == ["mine.txt"]


# The shipped parse tables -----------------------------------------------------------

def test_the_shipped_tables_are_the_grammars():
    from losscc.language.grammar import _shipped_tables, grammar_text, tables_parser

    assert tables_parser(_shipped_tables(), grammar_text()) is not None, (
        "grammar/loss.tables.json was made from another grammar or lark version: "
        "run `python -m losscc.grammar` and commit the file")


def parse_outcome(parser, text: str, start: str):
    from lark.exceptions import UnexpectedInput

    try:
        return ("tree", parser.parse(text, start=start).pretty())
    except UnexpectedInput as e:
        return (type(e).__name__, getattr(e, "pos_in_stream", None))


def test_the_shipped_tables_parse_like_the_grammar():
    """Behaviour, not bytes: the same trees and the same errors as tables built in memory."""
    import random

    from lark import Lark

    from losscc.language.grammar import OPTIONS, grammar_text, parser

    built = Lark(grammar_text(), **OPTIONS)
    rng = random.Random(12)
    alphabet = list("d()+-*/^,. 0123456789e#\n") + ["square(", "abs(", "mul(", "pred", "**",
                                                    "huber(", "max(", "delta="]
    texts = ["square(d - 1)^2 + abs(d)", "d^2^3", "-d^2", "mul(d, pred) # c\n + 1", "d +", "(d"]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(1, 16))) for _ in range(400)]
    for text in texts:
        for start in ("formula", "reduction"):
            assert parse_outcome(parser(), text, start) == parse_outcome(built, text, start), text


def test_tables_of_another_grammar_or_tampered_ones_are_not_used():
    from losscc.language.grammar import _shipped_tables, grammar_text, tables_parser

    document = json.loads(_shipped_tables())
    assert tables_parser(_shipped_tables(), grammar_text() + "\n") is None
    stale = dict(document, lark="0.0")
    assert tables_parser(json.dumps(stale).encode(), grammar_text()) is None
    assert tables_parser(b"\x80 not json", grammar_text()) is None
    # Options that would be called are never taken from the file.
    document["data"]["options"].update(tree_class="os.system", lexer_callbacks={"NAME": "print"},
                                       postlex={"__type__": "Popen"})
    loaded = tables_parser(json.dumps(document).encode(), grammar_text())
    assert loaded.parse("d+1", start="formula").data == "add"


# Inputs that once took unbounded time, memory or a traceback ----------------------------

def never(work: str):
    """A stand-in for expensive work that a refused input must not reach."""
    def reached(*args, **kwargs):
        raise AssertionError(f"{work} ran: the limit was not checked first")
    return reached


def test_products_of_abs_powers_compile_in_polynomial_time():
    # 14 factors took 27 s, 16 over 120 s
    formula = "*".join(f"abs(d+{i})^3" for i in range(1, 17))
    with no_hang():
        program = losscc.program(formula)
    assert program.op_counts["Abs"] == 16


def test_a_sum_of_600_abs_terms_needs_no_recursion():
    old = sys.getrecursionlimit()
    sys.setrecursionlimit(1000)
    try:
        program = losscc.program(" + ".join(f"abs(d+{i})" for i in range(600)))
    finally:
        sys.setrecursionlimit(old)
    assert program.op_counts["Abs"] == 600


def test_nested_abs_of_sums_compile_in_linear_time():
    formula = "abs(d+" * 2800 + "1" + ")" * 2800  # took minutes: each region counted all below
    with no_hang():
        program = losscc.program(formula)
    assert program.op_counts["Abs"] == 2800


DEGREE_LIMIT = "the loss has a degree above 1024 in its inputs"
CODE_LIMIT = "the formula has more than 20000 characters of code (comments and blanks not counted)"


def code_position(text: str, count: int) -> int:
    """The offset of the ``count``-th character of ``text`` that is not blank (from 1)."""
    return [i for i, c in enumerate(text) if not c.isspace()][count - 1]


@pytest.mark.parametrize("depth,message", [(20, DEGREE_LIMIT), (100, DEGREE_LIMIT),
                                           (14300, CODE_LIMIT)])
def test_nested_squares_cannot_bypass_the_power_limit(depth, message, monkeypatch):
    from losscc.compiler import program

    monkeypatch.setattr(program, "optimise", never("the optimisation passes"))
    text = "square(" * depth + "d" + ")" * depth
    with no_hang():
        error = pytest.raises(LossccError, losscc.program, text).value
    assert error.message == message
    # The degree: the whole loss, from its first character; the size: where it is reached.
    start = 0 if message == DEGREE_LIMIT else code_position(text, 20001)
    assert (error.line, error.start) == (1, start)


def test_analysis_of_high_degrees_is_refused_at_once_not_an_overflow(monkeypatch):
    from losscc.analysis import analyze, piecewise

    monkeypatch.setattr(piecewise, "exact", never("SymPy's form of the loss"))
    monkeypatch.setattr(analyze, "_study", never("the exact study of the loss"))
    for formula, degree in (("d^310", 310), ("d^1024", 1024), ("square(d)*d^400", 402)):
        with no_hang():
            report = analyze.analyze(losscc.program(formula))
        assert report.refused == (f"not analysed: the loss has degree {degree}, and the "
                                  "analysis takes losses up to degree 32")
    done = run("analyze", "d^310")
    assert done.returncode == 2 and "not analysed" in done.stdout
    assert "Traceback" not in done.stderr and "internal error" not in done.stderr


def test_the_analysis_that_compare_and_train_run_never_raises_for_a_compiled_loss():
    from losscc.analysis.analyze import analyze

    report = analyze(losscc.program("d^400"))  # compare "square(d)" "d^400" lost everything
    assert report.refused and report.verdict("growth") is None
    negated = analyze(losscc.program("-d^200"))
    assert negated.refused and negated.verdict("bounded_below") is False  # the screen warns


def test_standard_input_is_read_with_a_limit():
    with open("/dev/zero", "rb") as zero:  # endless: without the limit, run's timeout ends it
        done = run("compile", "-", stdin=zero)
    assert done.returncode == 2 and "more than 1048576 bytes" in done.stderr


def test_a_one_megabyte_formula_is_refused_before_it_is_parsed(monkeypatch):
    from losscc.language import parse
    from losscc.language.reduction import parse_reduction

    mean = parse_reduction("mean")  # the reduction is parsed first: before the parser goes
    monkeypatch.setattr(parse, "parser", never("the parser"))
    text = " + ".join(["square(d)"] * 80000)  # 1 MB took 87 s and 766 MB
    with no_hang():
        error = pytest.raises(LossccError, losscc.program, text, mean).value
    assert error.message == CODE_LIMIT
    assert (error.line, error.start) == (1, code_position(text, 20001))
    text = "square(d) # " + "x" * (1 << 20)
    with no_hang():
        error = pytest.raises(LossccError, losscc.program, text, mean).value
    assert error.message == "the formula is longer than 1048576 characters"
    assert (error.line, error.start) == (1, 1 << 20)


@pytest.mark.parametrize("path", ["/dev/zero", "fifo"])
def test_data_must_be_a_regular_file(tmp_path, path):
    if path == "fifo":
        path = str(tmp_path / "fifo")
        os.mkfifo(path)
    code = ("from losscc.training.data import load_csv\n"
            "from losscc import LossccError\n"
            f"try:\n    load_csv({path!r}, 'y')\nexcept LossccError as e:\n    print(e.message)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=60)
    assert "is not a regular file" in done.stdout, done.stderr


def test_a_csv_cell_beyond_the_csv_modules_limit_is_a_positioned_error(tmp_path):
    import csv

    from losscc.training.data import load_csv

    data = tmp_path / "wide.csv"
    data.write_text("a,b\n1," + "2" * 140000 + "\n3,4\n5,6\n")
    # Python's default limit (importing parts of MindSpore raises it to 10 MB, process-wide).
    old = csv.field_size_limit(131072)
    try:
        with pytest.raises(LossccError) as info:
            load_csv(str(data), "b")
    finally:
        csv.field_size_limit(old)
    assert "field limit" in info.value.message and info.value.line == 2


def test_output_paths_that_cannot_be_written_are_exit_2(tmp_path):
    (tmp_path / "loop1").symlink_to(tmp_path / "loop2")
    (tmp_path / "loop2").symlink_to(tmp_path / "loop1")
    done = run("compile", "square(d)", "-o", str(tmp_path / "loop1"))
    assert done.returncode == 2 and "symbolic links form a loop" in done.stderr
    done = run("compile", "square(d)", "-o", str(tmp_path / ("x" * 300 + ".py")))
    assert done.returncode == 2 and "File name too long" in done.stderr
    long_name = tmp_path / ("y" * 250 + ".py")  # legal: the temporary file's name must be too
    done = run("compile", "square(d)", "-o", str(long_name))
    assert done.returncode == 0, done.stderr
    assert long_name.read_text().startswith("# Generated by losscc")


@needs_root
def test_output_through_a_link_another_account_planted_is_refused(shared, tmp_path):
    mine = tmp_path / "mine.py"
    assert run("compile", "square(d)", "-o", str(mine)).returncode == 0
    before = mine.read_text()
    (shared / "loss.py").symlink_to(mine)
    plant(shared / "loss.py")
    done = run("compile", "abs(d)", "-o", str(shared / "loss.py"))
    assert done.returncode == 2 and "belongs to another account" in done.stderr
    assert mine.read_text() == before


def test_output_to_standard_output_through_a_pipe_is_called_a_pipe():
    done = run("compile", "square(d)", "-o", "/dev/stdout")  # stdout is a pipe here
    assert done.returncode == 2 and "a pipe" in done.stderr and "does not exist" not in done.stderr


def test_a_line_separator_starts_a_new_line_in_messages():
    error = pytest.raises(LossccError, losscc.program, "square(d)\u2028+ $").value
    assert (error.line, error.column) == (2, 3)


def test_long_lines_are_shown_around_the_fault():
    error = pytest.raises(LossccError, losscc.program, "d + " * 2000 + "$").value
    shown = [line for line in error.render().splitlines() if line.startswith("1 | ")]
    assert len(shown[0]) < 200 and shown[0].endswith("$")


NOT_REAL = "is not a finite real number"


@pytest.mark.parametrize("name,build,message", [
    ("imaginary", lambda sp, d: sp.I * d**2, "the constant I " + NOT_REAL),
    ("infinite", lambda sp, d: sp.oo * d, "the constant oo " + NOT_REAL),
    ("undefined", lambda sp, d: sp.nan * d + d**2, "the constant nan " + NOT_REAL),
    ("interval", lambda sp, d: sp.AccumBounds(0, 1) * d**2,
     "the constant AccumBounds(0, 1) " + NOT_REAL),
    ("piecewise", lambda sp, d: sp.Piecewise((d, d > 0), (-d, True)), NOT_REAL),
    ("tiny rational", lambda sp, d: sp.Rational(1, 10**5000) * d**2,
     "the expression holds a number of more than 1024 bits"),
    ("nested 3000 deep", lambda sp, d: nested(sp.exp, d, 3000),
     "the expression is nested more than 64 deep"),
    ("nested 65 deep", lambda sp, d: nested(sp.sin, d, 65),
     "the expression is nested more than 64 deep"),
    ("20000 terms", lambda sp, d: sp.Add(*[(k + 1) * d ** (k % 7) for k in range(20000)],
                                         evaluate=False),
     "the expression has more than 1000 parts"),
    ("399 powers", lambda sp, d: sp.Add(*[d**k for k in range(1, 400)], evaluate=False),
     "the expression has more than 1000 parts"),
    ("2000 factors", lambda sp, d: sp.Mul(*[(d + k) for k in range(2000)], evaluate=False),
     "the expression has more than 1000 parts"),
    ("a power never evaluated", lambda sp, d: sp.Mul(sp.Pow(2, 10**300, evaluate=False), d,
                                                    evaluate=False),
     "the expression raises to the power 10000000... (301 characters)"),
    ("d^2000", lambda sp, d: sp.Pow(d, 2000, evaluate=False),
     "the expression raises to the power 2000"),
])
def test_sympy_objects_have_the_limits_strings_have(name, build, message, monkeypatch):
    import sympy as sp

    from losscc.series import prepare, target

    # SymPy's own walks recurse and expand: the check comes before the first of them.
    monkeypatch.setattr(target, "_own_symbols", never("SymPy's walk of the expression"))
    expr = build(sp, sp.Symbol("d"))
    with no_hang():
        error = pytest.raises(LossccError, prepare, expr).value
    assert error.source == "expression" and message in error.message


def nested(function, d, depth: int):
    expr = d
    for _ in range(depth):
        expr = function(expr, evaluate=False)
    return expr


def test_the_report_says_where_a_zero_relative_error_was_measured():
    from dataclasses import replace

    from losscc.series import approximate

    report = approximate("exp(-d^2)", order=4, range=1).report
    hidden = replace(report, max_abs_error=8.5e8, max_rel_error=0.0)
    assert "max relative error 0 where f != 0" in hidden.text()
    assert "max relative error 0 where" not in report.text()
