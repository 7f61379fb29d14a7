"""Shared plumbing for the command line: one-line errors and exit codes."""

from __future__ import annotations

import functools
import sys
from collections.abc import Callable
from typing import TypeVar

import typer

from seedvr.errors import SeedVRError

F = TypeVar("F", bound=Callable)

USER_ERROR_EXIT = 2


def fail(message: str, code: int = USER_ERROR_EXIT) -> typer.Exit:
    """Print ``error: message`` on stderr as one line and return the exit to raise."""
    first_line = str(message).strip().splitlines()[0] if str(message).strip() else "unknown error"
    print(f"error: {first_line}", file=sys.stderr)
    return typer.Exit(code)


def user_errors(command: F) -> F:
    """Turn :class:`SeedVRError` (and a user's Ctrl-C) into one line and a non-zero exit."""

    @functools.wraps(command)
    def wrapper(*args, **kwargs):
        try:
            return command(*args, **kwargs)
        except SeedVRError as error:
            raise fail(str(error)) from None
        except KeyboardInterrupt:
            raise fail("interrupted", code=130) from None

    return wrapper  # type: ignore[return-value]
