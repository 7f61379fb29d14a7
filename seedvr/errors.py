"""Errors the user can fix.

Every mistake a user can make (a missing file, a mask of the wrong size, an absurd
parameter) raises :class:`SeedVRError` with one readable sentence. The command line turns
it into a single line on stderr and a non-zero exit; anything else is a bug and keeps its
traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from pydantic import ValidationError


class SeedVRError(Exception):
    """A problem with the user's input or parameters, explained in one line."""


def validation_problem(error: ValidationError) -> str:
    """The first problem of a pydantic ``ValidationError`` as one line, ``where: what``
    (``register.min_gain_over_propagate_db: Input should be greater than 0``)."""
    first = error.errors()[0]
    where = ".".join(str(part) for part in first["loc"])
    return f"{where}: {first['msg']}" if where else first["msg"]
