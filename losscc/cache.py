"""Where losscc keeps what it writes, and the rules that make it safe to use.

The cache is ``$LOSSCC_CACHE_DIR`` (``~`` expanded), else
``$XDG_CACHE_HOME/losscc`` (when that is an absolute path, as the XDG
specification requires), else ``~/.cache/losscc``. It holds the modules of
compiled losses (so that a person, and a warning, can point at their source)
and graph-kernel fusion's scratch directory.

The cache is a trust boundary: other accounts on the machine must not be
able to plant anything there that losscc would run or read back. So, as ssh
does with ``~/.ssh``:

- the directory is created with mode 0700 (missing parents too) and used
  only if it is owned by the user and writable by no one else; every
  directory above it must be owned by root or the user and be writable by no
  one else unless its sticky bit is set (``/tmp`` is fine: nobody else can
  rename what the user made there); a symbolic link on the way must belong
  to root or the user;
- once checked, the directory is used through an open descriptor, never by
  its path again: renaming it away and planting another changes nothing;
- an entry is read only if it is a regular file owned by the user, writable
  by no one else, and small enough; anything else counts as absent;
- writes go to a new temporary file (``O_EXCL | O_NOFOLLOW``, mode 0600)
  renamed over the entry: a symbolic link at the name is replaced, never
  followed, and readers never see half a file.

losscc never runs or unpickles anything from the cache: compiled modules are
executed from the source losscc has just generated (``losscc.compiler.load``),
and the grammar's parse tables ship inside the package.

>>> cache_location({"LOSSCC_CACHE_DIR": "/srv/me/losscc"})
Location(path='/srv/me/losscc', configured=True)
>>> cache_location({"XDG_CACHE_HOME": "/xdg"}).path
'/xdg/losscc'
"""
from __future__ import annotations

import errno
import os
import re
import secrets
import stat
from dataclasses import dataclass
from typing import Mapping, Optional

from .errors import LossccError

CACHE_ENV = "LOSSCC_CACHE_DIR"
# What the hint of every cache error suggests: a directory of the user's own.
PRIVATE_HINT = (f"set {CACHE_ENV} to a directory only you can write, such as ~/.cache/losscc "
                "(never a shared one such as /tmp/losscc)")

_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,99}\Z")
_CLOEXEC = getattr(os, "O_CLOEXEC", 0)
_NOFOLLOW = getattr(os, "O_NOFOLLOW", 0)
_OTHERS_WRITE = stat.S_IWGRP | stat.S_IWOTH


@dataclass(frozen=True)
class Location:
    """The cache directory's path, and whether the user chose it (``$LOSSCC_CACHE_DIR``)."""

    path: str
    configured: bool


def cache_location(env: Mapping[str, str] = os.environ) -> Location:
    """Where the cache is (not created, not checked). An empty variable counts as unset."""
    configured = env.get(CACHE_ENV, "")
    if configured:
        return Location(os.path.abspath(_expand(configured, CACHE_ENV)), True)
    xdg = env.get("XDG_CACHE_HOME", "")
    if xdg:
        xdg = _expand(xdg, "XDG_CACHE_HOME")
        if os.path.isabs(xdg):  # the XDG specification: relative values are ignored
            return Location(os.path.join(os.path.normpath(xdg), "losscc"), False)
    return Location(os.path.join(_expand("~", "HOME"), ".cache", "losscc"), False)


def open_cache() -> Optional["CacheDir"]:
    """The checked cache directory, created if need be; None if the default one is unusable.

    A directory the user chose (``$LOSSCC_CACHE_DIR``) that cannot be used is
    an error; the default location is allowed to be unusable (a read-only
    home, say): callers then do without a cache.
    """
    try:
        return CacheDir(cache_location().path)
    except LossccError:
        if os.environ.get(CACHE_ENV):
            raise
        return None


def _expand(value: str, variable: str) -> str:
    expanded = os.path.expanduser(value)
    if expanded.startswith("~"):
        raise _error(f"cannot expand '~' in {variable}={value!r}: no home directory is known")
    if "\0" in expanded:
        raise _error(f"{variable} contains a NUL character")
    return expanded


def _error(message: str) -> LossccError:
    return LossccError(message, hint=PRIVATE_HINT, source="cache")


def _owner(uid: int) -> str:
    try:
        import pwd

        return f"{pwd.getpwuid(uid).pw_name} (uid {uid})"
    except (ImportError, KeyError):
        return f"uid {uid}"


def _check_links(path: str, euid: int) -> None:
    """Every symbolic link on ``path`` as written belongs to root or the user."""
    prefix = os.sep
    for part in [p for p in path.split(os.sep) if p]:
        prefix = os.path.join(prefix, part)
        try:
            st = os.lstat(prefix)
        except OSError:
            return  # from here on the path does not exist yet: losscc creates it
        if stat.S_ISLNK(st.st_mode) and st.st_uid not in (0, euid):
            raise _error(f"cannot use the cache directory {path}: {prefix} is a symbolic link "
                         f"owned by {_owner(st.st_uid)}, not by you")


def _check_ancestor(path: str, directory: str, st: os.stat_result, euid: int) -> None:
    """A directory above the cache: root's or the user's, and nobody else may rename in it."""
    where = f"cannot use the cache directory {path}: {directory}"
    if not stat.S_ISDIR(st.st_mode):
        raise _error(f"{where}: {os.strerror(errno.ENOTDIR)}")
    if st.st_uid not in (0, euid):
        raise _error(f"{where} is owned by {_owner(st.st_uid)}, who could replace the cache")
    if st.st_mode & _OTHERS_WRITE and not st.st_mode & stat.S_ISVTX:
        raise _error(f"{where} is writable by others (mode {stat.S_IMODE(st.st_mode):o}) "
                     "and has no sticky bit: they could replace the cache")


def _make_private_parents(path: str, parent: str, euid: int) -> None:
    """Check every directory from / down to ``parent``; create missing ones with mode 0700."""
    current = os.sep
    _check_ancestor(path, current, os.lstat(current), euid)
    for part in [p for p in parent.split(os.sep) if p]:
        current = os.path.join(current, part)
        try:
            st = os.lstat(current)
        except FileNotFoundError:
            _mkdir(path, current)
            st = os.lstat(current)
        if stat.S_ISLNK(st.st_mode):  # it was resolved a moment ago: someone is racing us
            raise _error(f"cannot use the cache directory {path}: {current} became a symbolic "
                         "link while losscc was checking it")
        _check_ancestor(path, current, st, euid)


def _mkdir(path: str, directory: str, dir_fd: Optional[int] = None) -> None:
    try:
        os.mkdir(directory, 0o700, dir_fd=dir_fd)
    except FileExistsError:
        pass
    except OSError as e:
        raise _error(f"cannot use the cache directory {path}: cannot create {directory}: "
                     f"{e.strerror or e}") from None


class CacheDir:
    """An open, checked cache directory; every operation goes through its descriptor.

    Use it as a context manager. ``CacheDir(path, create=False)`` raises
    FileNotFoundError when the directory does not exist; any other problem is
    a LossccError that says what is wrong in words a person can act on.
    """

    def __init__(self, path: Optional[str] = None, create: bool = True) -> None:
        self.euid = os.geteuid()
        given = os.path.abspath(path if path is not None else cache_location().path)
        _check_links(given, self.euid)
        self.path = os.path.realpath(given)
        parent = os.path.dirname(self.path)
        if create:
            _make_private_parents(given, parent, self.euid)
            _mkdir(given, self.path)
        elif not os.path.lexists(self.path):
            raise FileNotFoundError(errno.ENOENT, "no cache directory", given)
        else:
            _make_private_parents(given, parent, self.euid)  # checks only: they all exist
        try:
            self.fd = os.open(self.path, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC)
        except OSError as e:
            linked = e.errno in (errno.ELOOP, errno.ENOTDIR)
            why = ("is a symbolic link or not a directory" if linked
                   else f"cannot be opened: {e.strerror or e}")
            raise _error(f"the cache directory {self.path} {why}") from None
        try:
            _check_private(self.fd, self.path, self.euid)
        except BaseException:
            os.close(self.fd)
            raise

    # Entries ------------------------------------------------------------------

    def read(self, name: str, limit: int) -> Optional[bytes]:
        """The entry's bytes if it is trustworthy and at most ``limit`` bytes long, else None."""
        try:
            fd = os.open(_entry(name), os.O_RDONLY | _NOFOLLOW | os.O_NONBLOCK | _CLOEXEC,
                         dir_fd=self.fd)
        except OSError:
            return None  # absent, a symbolic link (ELOOP), unreadable
        try:
            st = os.fstat(fd)
            if not _trusted_file(st, self.euid) or st.st_size > limit:
                return None
            data = _read_at_most(fd, limit)
            return data if len(data) <= limit else None
        finally:
            os.close(fd)

    def write(self, name: str, data: bytes) -> None:
        """(Re)place the entry ``name`` atomically; a link there is replaced, not followed."""
        name = _entry(name)
        temporary = f".{name}.{secrets.token_hex(8)}.tmp"
        fd = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_EXCL | _NOFOLLOW | _CLOEXEC,
                     0o600, dir_fd=self.fd)
        try:
            try:
                view = memoryview(data)
                while view:
                    view = view[os.write(fd, view):]
                os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(temporary, name, src_dir_fd=self.fd, dst_dir_fd=self.fd)
        except BaseException:
            try:
                os.unlink(temporary, dir_fd=self.fd)
            except OSError:
                pass
            raise

    def subdir(self, name: str) -> str:
        """The path of a private subdirectory (created 0700), for tools that need a path."""
        name = _entry(name)
        _mkdir(self.path, name, dir_fd=self.fd)
        try:
            fd = os.open(name, os.O_RDONLY | os.O_DIRECTORY | _NOFOLLOW | _CLOEXEC, dir_fd=self.fd)
        except OSError:
            raise _error(f"{self.path}/{name} is a symbolic link or not a directory") from None
        try:
            st = os.fstat(fd)
            if st.st_uid != self.euid or stat.S_IMODE(st.st_mode) & 0o077:
                raise _error(f"{self.path}/{name} is not private to you "
                             f"(owner {_owner(st.st_uid)}, mode {stat.S_IMODE(st.st_mode):o})")
        finally:
            os.close(fd)
        return os.path.join(self.path, name)

    def entries(self) -> list[tuple[str, os.stat_result]]:
        """(name, lstat) of everything in the directory, by name."""
        out = []
        for name in sorted(os.listdir(self.fd)):
            try:
                out.append((name, os.stat(name, dir_fd=self.fd, follow_symlinks=False)))
            except FileNotFoundError:
                continue  # removed meanwhile (another process's temporary file)
        return out

    def remove(self, name: str) -> None:
        """Delete an entry (a subdirectory with all it holds); links are removed, not followed."""
        st = os.stat(name, dir_fd=self.fd, follow_symlinks=False)
        if stat.S_ISDIR(st.st_mode):
            import shutil

            shutil.rmtree(name, dir_fd=self.fd)  # the descriptor-based, link-safe walk
        else:
            os.unlink(name, dir_fd=self.fd)

    # Lifetime ----------------------------------------------------------------

    def close(self) -> None:
        if self.fd >= 0:
            os.close(self.fd)
            self.fd = -1

    def __enter__(self) -> "CacheDir":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _check_private(fd: int, path: str, euid: int) -> None:
    st = os.fstat(fd)
    if st.st_uid != euid:
        raise _error(f"the cache directory {path} is owned by {_owner(st.st_uid)}, not by you")
    if st.st_mode & _OTHERS_WRITE:
        raise _error(f"the cache directory {path} is writable by others "
                     f"(mode {stat.S_IMODE(st.st_mode):o}); if it is yours alone, chmod 700 it")


def _trusted_file(st: os.stat_result, euid: int) -> bool:
    return stat.S_ISREG(st.st_mode) and st.st_uid == euid and not st.st_mode & _OTHERS_WRITE


def _entry(name: str) -> str:
    if not _NAME.match(name):
        raise ValueError(f"bad cache entry name {name!r}")
    return name


def _read_at_most(fd: int, limit: int) -> bytes:
    """Up to limit + 1 bytes: one more than allowed tells the caller it was too long."""
    chunks, total = [], 0
    while total <= limit:
        chunk = os.read(fd, min(1 << 16, limit + 1 - total))
        if not chunk:
            break
        chunks.append(chunk)
        total += len(chunk)
    return b"".join(chunks)
