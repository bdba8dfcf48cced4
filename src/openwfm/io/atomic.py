"""Write outputs so that a failure, Ctrl-C or a kill never leaves a half-written output
behind, and never replaces what the user did not ask to replace.

- An output file is written to a hidden temporary file beside it and renamed into place
  (`atomic_path`); all the files of one command are renamed together, after every one is
  written (`atomic_paths`).
- An output folder is written to a hidden temporary folder and swapped in as a whole
  (`atomic_dir`).
- An existing folder given as an output file, or an existing file given as an output folder,
  is refused before anything is computed or touched (`check_output_file`,
  `check_output_dir`, also run by the writers themselves).
- Temporary names carry the writer's process id (``.NAME.openwfm-PID-XXXX``). A process
  ended by SIGKILL cannot remove its own; the next write of the same output removes those
  whose process is gone (`clean_stale`), and restores a folder whose swap was cut in half.
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import tempfile
from collections.abc import Iterator, Sequence
from pathlib import Path

from openwfm.errors import InputError
from openwfm.interrupt import critical, temporary

__all__ = ["atomic_dir", "atomic_path", "atomic_paths", "check_output_dir",
           "check_output_file", "clean_stale"]

_TMP = re.compile(r"openwfm-(\d+)-")


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _check_parent(target: Path, option: str | None) -> None:
    for parent in target.parents:
        if parent.exists():
            if not parent.is_dir():
                raise InputError(f"cannot write {target}: {parent} is a file, not a folder",
                                 column=option)
            if not os.access(parent, os.W_OK | os.X_OK):
                raise InputError(f"cannot write {target}: no permission to write in "
                                 f"{parent}", column=option)
            return


def check_output_file(path: str | os.PathLike[str], option: str | None = "--out") -> Path:
    """Refuse an output file path that is an existing folder or sits under a file.

    Examples
    --------
    >>> import tempfile
    >>> check_output_file(tempfile.mkdtemp())  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: option '--out': ... is an existing folder; give a file name
    """
    target = Path(path)
    if target.is_dir():
        raise InputError(f"{target} is an existing folder; give a file name", column=option)
    if str(path).endswith(os.sep):
        raise InputError(f"{path} names a folder; give a file name", column=option)
    _check_parent(target, option)
    return target


def check_output_dir(path: str | os.PathLike[str], option: str | None = "--out") -> Path:
    """Refuse an output folder path that is an existing file (it would be replaced).

    Examples
    --------
    >>> import tempfile
    >>> check_output_dir(tempfile.mkstemp()[1])  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ...
    openwfm.errors.InputError: option '--out': ... is an existing file, not a folder; ...
    """
    target = Path(path)
    if target.exists() and not target.is_dir():
        raise InputError(f"{target} is an existing file, not a folder; give a folder name "
                         "(it is replaced as a whole)", column=option)
    _check_parent(target, option)
    return target


def clean_stale(target: Path) -> None:
    """Remove the temporary outputs of `target` left by processes that no longer run (a
    SIGKILL), and restore `target` from ``.NAME.old`` if a swap was cut between its two
    renames."""
    parent = target.parent
    if not parent.is_dir():
        return
    prefix = f".{target.name}.openwfm-"
    with contextlib.suppress(OSError):
        for entry in parent.iterdir():
            if not entry.name.startswith(prefix):
                continue
            m = _TMP.search(entry.name[len(target.name) + 1:])
            if m is None or _alive(int(m.group(1))):
                continue
            if entry.is_dir() and not entry.is_symlink():
                shutil.rmtree(entry, ignore_errors=True)
            else:
                entry.unlink(missing_ok=True)
    old = target.with_name(f".{target.name}.old")
    if old.is_dir() and not old.is_symlink():
        if target.exists():
            shutil.rmtree(old, ignore_errors=True)
        else:
            with contextlib.suppress(OSError):
                os.replace(old, target)


def _prefix(target: Path) -> str:
    return f".{target.name}.openwfm-{os.getpid()}-"


@contextlib.contextmanager
def atomic_paths(paths: Sequence[str | os.PathLike[str]],
                 options: Sequence[str | None] | None = None) -> Iterator[list[Path]]:
    """Yield temporary paths beside `paths`; move them all into place only if the block
    succeeds (the outputs of one command are written together or not at all).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_paths([d / "a.csv", d / "b.csv"]) as (a, b):
    ...     _ = a.write_text("a"), b.write_text("b")
    >>> sorted(p.name for p in d.iterdir())
    ['a.csv', 'b.csv']
    """
    targets = [Path(p) for p in paths]
    opts = list(options) if options is not None else ["--out"] * len(targets)
    if len({t.resolve() for t in targets}) < len(targets):
        raise InputError("two outputs name the same file: "
                         + ", ".join(str(t) for t in targets), column=opts[0])
    for target, option in zip(targets, opts, strict=True):
        check_output_file(target, option)
    tmps: list[Path] = []
    with contextlib.ExitStack() as stack:
        for target in targets:
            target.parent.mkdir(parents=True, exist_ok=True)
            clean_stale(target)
            fd, name = tempfile.mkstemp(prefix=_prefix(target), suffix=".tmp",
                                        dir=target.parent)
            os.close(fd)
            tmps.append(stack.enter_context(temporary(Path(name))))
        try:
            yield tmps
            mode = 0o666 & ~_umask()  # mkstemp makes 0600; an output is an ordinary file
            for tmp, target, option in zip(tmps, targets, opts, strict=True):
                check_output_file(target, option)  # still not a folder
                os.chmod(tmp, mode)
            with critical():
                for tmp, target in zip(tmps, targets, strict=True):
                    os.replace(tmp, target)
        finally:
            for tmp in tmps:
                if tmp.exists():
                    tmp.unlink()


@contextlib.contextmanager
def atomic_path(path: str | os.PathLike[str], option: str | None = "--out") -> Iterator[Path]:
    """Yield a temporary path next to `path`; move it into place only if the block succeeds.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp())
    >>> with atomic_path(d / "out.txt") as tmp:
    ...     _ = tmp.write_text("ok")
    >>> (d / "out.txt").read_text()
    'ok'
    """
    with atomic_paths([path], [option]) as (tmp,):
        yield tmp


@contextlib.contextmanager
def atomic_dir(path: str | os.PathLike[str], option: str | None = "--out") -> Iterator[Path]:
    """Yield a temporary folder; on success it replaces `path` as a whole (old content removed).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> d = pathlib.Path(tempfile.mkdtemp()) / "out"
    >>> with atomic_dir(d) as tmp:
    ...     _ = (tmp / "a.csv").write_text("a")
    >>> [p.name for p in d.iterdir()]
    ['a.csv']
    """
    target = check_output_dir(path, option)
    target.parent.mkdir(parents=True, exist_ok=True)
    clean_stale(target)
    tmp = Path(tempfile.mkdtemp(prefix=_prefix(target), dir=target.parent))
    with temporary(tmp):
        try:
            yield tmp
            check_output_dir(target, option)  # still not a file
            os.chmod(tmp, 0o777 & ~_umask())  # mkdtemp makes 0700; an ordinary folder
            with critical():
                if target.exists():
                    old = target.with_name(f".{target.name}.old")
                    if old.exists():
                        shutil.rmtree(old)
                    os.replace(target, old)
                    os.replace(tmp, target)
                    shutil.rmtree(old)
                else:
                    os.replace(tmp, target)
        finally:
            if tmp.exists():
                shutil.rmtree(tmp)
