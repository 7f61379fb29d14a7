"""Shared plumbing for the command line: one-line errors, exit codes, and SIGTERM as an interrupt."""

from __future__ import annotations

import contextlib
import functools
import signal
import sys
import threading
from collections.abc import Callable, Iterator
from typing import TypeVar

import typer

from seedvr.errors import SeedVRError

F = TypeVar("F", bound=Callable)

USER_ERROR_EXIT = 2
# The shell's convention for a process stopped by signal N: 128 + N (Ctrl-C: 130).
_SIGNAL_EXIT_BASE = 128


class Terminated(KeyboardInterrupt):
    """SIGTERM, delivered as an interrupt so everything that cleans up after Ctrl-C runs for it too.

    ``docker stop``, systemd and Prefect's cancellation stop a process with SIGTERM, whose default
    action kills it on the spot and leaves its temporary outputs behind.
    """


def fail(message: str, code: int = USER_ERROR_EXIT) -> typer.Exit:
    """Print ``error: message`` on stderr as one line and return the exit to raise."""
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else "unknown error"
    print(f"error: {first_line}", file=sys.stderr)
    return typer.Exit(code)


def _raise_terminated(signum: int, frame) -> None:
    # One is enough: a second SIGTERM must not cut the cleanup the first one started short.
    signal.signal(signal.SIGTERM, signal.SIG_IGN)
    raise Terminated()


@contextlib.contextmanager
def sigterm_as_interrupt() -> Iterator[None]:
    """While inside, SIGTERM raises :class:`Terminated` instead of killing the process outright.

    Left alone where a handler is already installed (by whoever embeds the command) or where
    Python cannot install one (outside the main thread).
    """
    if threading.current_thread() is not threading.main_thread() or signal.getsignal(signal.SIGTERM) is not signal.SIG_DFL:
        yield
        return
    signal.signal(signal.SIGTERM, _raise_terminated)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, signal.SIG_DFL)


def user_errors(command: F) -> F:
    """Turn :class:`SeedVRError` into one line and exit 2; Ctrl-C and SIGTERM into one line and 128 + signal."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            with sigterm_as_interrupt():
                return command(*args, **kwargs)
        except SeedVRError as error:
            raise fail(str(error)) from None
        except Terminated:
            raise fail("terminated", code=_SIGNAL_EXIT_BASE + signal.SIGTERM) from None
        except KeyboardInterrupt:
            raise fail("interrupted", code=_SIGNAL_EXIT_BASE + signal.SIGINT) from None

    return wrapper  # type: ignore[return-value]
