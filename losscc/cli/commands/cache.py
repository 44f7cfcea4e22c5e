"""losscc cache: where losscc keeps what it writes, what is there, and clearing it."""
from __future__ import annotations

import argparse
import os
import re
import stat
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from ...cache import CacheDir

HELP = "show, measure or clear losscc's cache directory"

EPILOG = """\
The cache is $LOSSCC_CACHE_DIR, else $XDG_CACHE_HOME/losscc, else
~/.cache/losscc. It holds a copy of every compiled loss module (losscc runs
the source it generates, never these files) and graph-kernel fusion's
kernels. losscc creates it with mode 0700 and uses it only while it belongs
to you and no one else can write to it: set LOSSCC_CACHE_DIR to a directory
of your own, never a shared one such as /tmp/losscc.

examples:
  losscc cache            where the cache is and what it holds
  losscc cache size       how much space it takes
  losscc cache clear      remove what losscc wrote there (nothing else)
"""

# What losscc writes into the cache, by name: only these are listed as ours and cleared.
KINDS = (
    (re.compile(r"losscc_generated_[0-9a-f]+\.py\Z"), "compiled loss module"),
    (re.compile(r"graph-kernel\Z"), "graph-kernel fusion's kernels"),
    (re.compile(r"grammar-[0-9a-f]+-py\d+\.lark\Z"), "old parse tables (no longer read)"),
    (re.compile(r"\..+\.[0-9a-f]{16}\.tmp\Z"), "unfinished write"),
)

NOT_OURS = "not losscc's: left alone"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser("cache", help=HELP, description=HELP + ".", epilog=EPILOG,
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("action", nargs="?", choices=("list", "size", "clear"), default="list",
                   help="list (default): the location and the entries; size: the space they "
                   "take; clear: remove losscc's entries")
    p.set_defaults(run=run)


def run(args: argparse.Namespace) -> int:
    from ...cache import CacheDir, cache_location

    location = cache_location()
    origin = "LOSSCC_CACHE_DIR" if location.configured else "default"
    try:
        cache = CacheDir(location.path, create=False)
    except FileNotFoundError:
        print(f"cache: {location.path} ({origin}; not created yet: nothing cached)")
        return 0
    with cache:
        entries = [(name, st, _kind(name)) for name, st in cache.entries()]
        if args.action == "clear":
            ours = [(name, st) for name, st, kind in entries if kind is not None]
            total = sum(_size(cache, name, st) for name, st in ours)  # measured before removal
            for name, _ in ours:
                cache.remove(name)
            print(f"removed {len(ours)} entr{'y' if len(ours) == 1 else 'ies'} "
                  f"({_human(total)}) from {cache.path}")
            return 0
        sizes = [_size(cache, name, st) for name, st, _ in entries]
        summary = f"{len(entries)} entr{'y' if len(entries) == 1 else 'ies'}, {_human(sum(sizes))}"
        if args.action == "size":
            print(f"{_human(sum(sizes))}\t{cache.path}")
            return 0
        print(f"cache: {cache.path} ({origin}; private to you)")
        for (name, st, kind), size in zip(entries, sizes):
            shown = name + ("/" if stat.S_ISDIR(st.st_mode) else "")
            print(f"  {shown:<48} {_human(size):>9}  {kind or NOT_OURS}")
        print(summary)
    return 0


def _kind(name: str) -> "str | None":
    return next((kind for pattern, kind in KINDS if pattern.match(name)), None)


def _size(cache: "CacheDir", name: str, st: os.stat_result) -> int:
    """Bytes of an entry; a directory's files added up (links not followed)."""
    if not stat.S_ISDIR(st.st_mode):
        return st.st_size
    total = 0
    for _, _, files, fd in os.fwalk(name, dir_fd=cache.fd):
        for file in files:
            try:
                total += os.stat(file, dir_fd=fd, follow_symlinks=False).st_size
            except OSError:
                continue  # removed meanwhile
    return total


def _human(size: int) -> str:
    """1536 -> '1.5 kB'."""
    if size < 1000:
        return f"{size} B"
    value, unit = float(size), "B"
    for unit in ("kB", "MB", "GB"):
        value /= 1000
        if value < 1000:
            break
    return f"{value:.1f} {unit}"
