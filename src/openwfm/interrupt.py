"""Stopping a run on Ctrl-C (SIGINT) or SIGTERM: promptly, with nothing written.

A Python signal handler only runs in the main thread between two bytecodes, so it cannot
stop a solver busy in C++ (CP-SAT, HiGHS) until that call returns, which may be minutes
later. `handle_signals` therefore also points the interpreter's signal wake-up descriptor at
a socket read by a watcher thread, which the C-level handler writes to even while the main
thread is inside a solver. On a signal the watcher

1. marks the run as stopping (`stop_requested`, `check` for numba chunk loops),
2. calls the stop hooks registered by the running solvers (`stop_hook`: CP-SAT's
   ``stop_search``, HiGHS's ``cancelSolve``), so they return at once, and
3. after `grace_s` (1.5 s), if the main thread has still not unwound (a kernel that holds
   on, a solver without a hook such as scipy's ``milp``), waits for a `critical` section
   in progress (the renames that put finished outputs in place), removes the temporary
   outputs registered with `temporary` and ends the process with ``128 + signal`` (130
   for SIGINT, 143 for SIGTERM).

In the main thread the handler raises `Interrupted` (a `BaseException`, like
`KeyboardInterrupt`, so no ``except Exception`` swallows it), which unwinds the atomic
writers of `openwfm.io.atomic`: the previous output stays as it was.

Domain code never installs handlers; it only registers hooks and checks, which cost nothing
when no handler is installed (a library user keeps Python's own Ctrl-C behaviour).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import socket
import threading
from collections.abc import Callable, Iterator
from pathlib import Path

__all__ = ["Interrupted", "active", "check", "critical", "delegated", "handle_signals",
           "stop_hook", "stop_requested", "temporary"]

GRACE_S = 1.5
"""Seconds a stopped run has to unwind before the process is ended."""


class Interrupted(BaseException):
    """The run was stopped by a signal; `exit_code` is ``128 + signal number``."""

    def __init__(self, signum: int) -> None:
        self.signum = signum
        self.exit_code = 128 + signum
        super().__init__(f"interrupted by {signal.Signals(signum).name}")


_lock = threading.Lock()
_hooks: dict[int, Callable[[], object]] = {}
_temps: dict[int, Path] = {}
_stop = threading.Event()
_signum: list[int] = []
_active = threading.Event()
_critical = threading.RLock()


def active() -> bool:
    """True inside `handle_signals` (a command run): solvers then register their hooks."""
    return _active.is_set()


_in_critical: list[bool] = []
_delegated = threading.Event()


@contextlib.contextmanager
def delegated() -> Iterator[None]:
    """A block that handles SIGINT/SIGTERM itself (uvicorn's graceful shutdown in
    `openwfm serve`): the watcher neither stops solvers nor ends the process meanwhile.

    Examples
    --------
    >>> with delegated():
    ...     pass
    """
    _delegated.set()
    try:
        yield
    finally:
        _delegated.clear()


@contextlib.contextmanager
def critical() -> Iterator[None]:
    """A section a signal does not cut (the renames putting finished outputs in place: a
    folder swapped half-way would lose the previous output): the handler only records the
    signal inside it, and the end-after-grace waits for it. Keep it short.

    Examples
    --------
    >>> with critical():
    ...     pass
    """
    with _critical:
        _in_critical.append(True)
        try:
            yield
        finally:
            _in_critical.pop()


def stop_requested() -> bool:
    """True once a handled SIGINT/SIGTERM arrived (always False without `handle_signals`)."""
    return _stop.is_set()


def received() -> int | None:
    """The signal that stopped the run, if any."""
    return _signum[0] if _signum else None


def check() -> None:
    """Raise `Interrupted` if a stop was requested: call it between chunks of a long loop."""
    if _stop.is_set():
        raise Interrupted(_signum[0] if _signum else signal.SIGINT)


@contextlib.contextmanager
def stop_hook(callback: Callable[[], object]) -> Iterator[None]:
    """Call `callback` (from another thread) if a stop is requested while the block runs.

    Examples
    --------
    >>> stopped = []
    >>> with stop_hook(lambda: stopped.append(True)):
    ...     pass
    >>> stopped
    []
    """
    key = id(callback)
    with _lock:
        _hooks[key] = callback
    try:
        if _stop.is_set():  # the signal came before the solver started
            callback()
        yield
    finally:
        with _lock:
            _hooks.pop(key, None)


@contextlib.contextmanager
def temporary(path: Path) -> Iterator[Path]:
    """Register a temporary output (file or folder) to remove if the process is ended
    after the grace period; the caller removes it in the ordinary case."""
    key = id(path)
    with _lock:
        _temps[key] = path
    try:
        yield path
    finally:
        with _lock:
            _temps.pop(key, None)


def _remove_temporaries() -> None:
    with _lock:
        temps = list(_temps.values())
    for path in temps:
        with contextlib.suppress(OSError):
            if path.is_dir() and not path.is_symlink():
                shutil.rmtree(path, ignore_errors=True)
            else:
                path.unlink(missing_ok=True)


def _watch(reader: socket.socket, grace_s: float, done: threading.Event) -> None:
    while True:
        try:
            data = reader.recv(64)
        except OSError:
            return
        if not data or done.is_set():
            return
        signums = [b for b in data if b in (signal.SIGINT, signal.SIGTERM)]
        if not signums:
            continue
        if _delegated.is_set():  # the block handles it; only remember which it was
            if not _signum:
                _signum.append(signums[0])
            continue
        if not _signum:
            _signum.append(signums[0])
        _stop.set()
        with _lock:
            hooks = list(_hooks.values())
        for hook in hooks:
            with contextlib.suppress(Exception):
                hook()
        if done.wait(grace_s):
            return
        with _critical:  # not in the middle of putting outputs in place
            if done.is_set():
                return
            _remove_temporaries()
            name = signal.Signals(_signum[0]).name
            with contextlib.suppress(OSError):  # the line the main thread would have printed
                os.write(2, f"error: interrupted by {name}: nothing written, earlier outputs "
                            "left as they were\n".encode())
            os._exit(128 + _signum[0])


def _raise(signum: int, frame: object) -> None:
    if not _signum:
        _signum.append(signum)
    _stop.set()
    if _in_critical:  # outputs going into place: let them (the run ends right after)
        return
    raise Interrupted(signum)


@contextlib.contextmanager
def handle_signals(grace_s: float = GRACE_S) -> Iterator[None]:
    """Within the block, SIGINT and SIGTERM raise `Interrupted` in the main thread and stop
    the registered solvers; a run still busy `grace_s` after the signal is ended.

    Only the main thread can install handlers; elsewhere the block runs unchanged.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    reader, writer = socket.socketpair()
    reader.setblocking(True)
    writer.setblocking(False)
    done = threading.Event()
    old_fd = signal.set_wakeup_fd(writer.fileno(), warn_on_full_buffer=False)
    # a signal ignored by the parent (a background job of a script, nohup) stays ignored
    old = {s: signal.signal(s, _raise) for s in (signal.SIGINT, signal.SIGTERM)
           if signal.getsignal(s) is not signal.SIG_IGN}
    _stop.clear()
    _signum.clear()
    watcher = threading.Thread(target=_watch, args=(reader, grace_s, done), daemon=True,
                               name="openwfm-signal-watcher")
    watcher.start()
    _active.set()
    try:
        yield
    finally:
        _active.clear()
        done.set()
        for s, h in old.items():
            signal.signal(s, h)
        signal.set_wakeup_fd(old_fd)
        with contextlib.suppress(OSError):
            writer.send(b"\0")  # wake the watcher so it sees `done`
        watcher.join(1.0)
        reader.close()
        writer.close()
        _stop.clear()
        _signum.clear()
