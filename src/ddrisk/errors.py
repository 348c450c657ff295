"""Errors that users see as one line: which file, which place, what to fix.

Every boundary (catalog loader, parameter files, stress inputs, importers) raises
:class:`InputError`; the CLI prints ``str(error)`` and exits with status 2 and no
traceback, so a user never has to read Python internals to fix their input.
"""

from __future__ import annotations


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
        parts = [str(self.source)]
        if self.where:
            parts.append(str(self.where))
        text = ": ".join(parts) + ": " + self.problem.replace("\n", " ")
        if self.fix:
            text += "; fix: " + self.fix.replace("\n", " ")
        return text
