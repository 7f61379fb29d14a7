"""Errors the user can fix.

Every mistake a user can make (a missing file, a mask of the wrong size, an absurd
parameter) raises :class:`SeedVRError` with one readable sentence. The command line turns
it into a single line on stderr and a non-zero exit; anything else is a bug and keeps its
traceback.
"""


class SeedVRError(Exception):
    """A problem with the user's input or parameters, explained in one line."""
