"""Errors that users see as one line: which file, which place, what to fix.

Every boundary (catalog loader, parameter files, stress inputs, importers) raises
:class:`InputError`; the CLI prints ``str(error)`` and exits with status 2 and no
traceback, so a user never has to read Python internals to fix their input.
"""

from __future__ import annotations

import re


class DdriskError(Exception):
    """Base class of every error ddrisk raises on purpose."""


class InputError(DdriskError):
    """Bad user input, located precisely enough to fix in one edit.

    Parameters
    ----------
    source
        The file (or ``"<command line>"``, ``"--stack"``...) the bad value came from.
    where
        The place inside it: ``"line 12"`` or a key path such as ``"ratings[3].level"``.
    problem
        What is wrong.
    fix
        What the user should do instead.

    Examples
    --------
    >>> str(InputError("cat.yaml", "line 3", "unknown technique 'RLFH'", "use one of RLHF, RE"))
    "cat.yaml: line 3: unknown technique 'RLFH'; fix: use one of RLHF, RE"
    """

    exit_code = 2

    def __init__(self, source: str, where: str | None, problem: str, fix: str | None = None):
        self.source = source
        self.where = where
        self.problem = problem
        self.fix = fix
        super().__init__(self.__str__())

    def __str__(self) -> str:
        parts = [_one_line(str(self.source), 1000)]
        if self.where:
            parts.append(_one_line(str(self.where), 300))
        text = ": ".join(parts) + ": " + _one_line(self.problem, 600)
        if self.fix:
            text += "; fix: " + _one_line(self.fix, 400)
        return text


_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f\x7f-\x9f]")


def _one_line(text: str, limit: int) -> str:
    """Text from a user's file made safe for one terminal line: newlines become spaces, other
    control characters (ANSI escapes included) become visible escapes, and a value pasted in
    whole (a megabyte-long field, say) is cut at ``limit`` characters.

    >>> _one_line("a\\nb" + "x" * 20, 8)
    'a bxxxx…'
    """
    text = _CONTROL.sub(lambda match: repr(match.group())[1:-1], text.replace("\n", " "))
    return text if len(text) <= limit else text[: limit - 1] + "…"
