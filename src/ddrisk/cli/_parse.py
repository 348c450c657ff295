"""Command-line strings (``--q MODE=SPEC``, ``--cost high=5``) into the objects the API takes.

Only the CLI knows its flags: these parsers turn option values into
:class:`~ddrisk.risk.parameters.PartialParameters` and cost tables, and their errors name the
option (``command line: --p T0=0.5: expected TECHNIQUE:MODE=VALUE``).
"""

from __future__ import annotations

import math
from collections.abc import Iterable, Sequence

from ddrisk.catalog.model import Level, SafetyTax
from ddrisk.errors import InputError
from ddrisk.risk.distributions import parse_distribution
from ddrisk.risk.parameters import PartialParameters, Setting

COMMAND_LINE = "command line"


def _split_assignment(text: str, option: str) -> tuple[str | None, str]:
    """``KEY=VALUE`` -> (KEY, VALUE); a bare value -> (None, VALUE)."""
    key, sep, value = text.partition("=")
    if not sep:
        return None, text.strip()
    if not key.strip():
        raise InputError(
            COMMAND_LINE,
            f"{option} {text}",
            "missing name before '='",
            f"write {option} NAME=VALUE",
        )
    return key.strip(), value.strip()


def parameters_from_cli(
    *,
    q: Iterable[str] = (),
    p_prone: str | None = None,
    p_unclear: str | None = None,
    p_not_prone: str | None = None,
    p: Iterable[str] = (),
    residual: Iterable[str] = (),
) -> PartialParameters:
    """Parse ``--q``, ``--p-prone``... option values (``VALUE`` or ``NAME=VALUE``).

    >>> cli = parameters_from_cli(q=["0.2", "DEC-AL=beta(2, 8)"], p=["RLHF:DEC-AL=0.7"])
    >>> cli.q_default.value.spec, cli.q_modes["DEC-AL"].value.spec, cli.p_cells[("RLHF", "DEC-AL")].where
    ('0.2', 'beta(2, 8)', '--p RLHF:DEC-AL=0.7')
    """

    def setting(value: str, where: str) -> Setting:
        return Setting(
            parse_distribution(value, source=COMMAND_LINE, where=where), COMMAND_LINE, where
        )

    q_default, q_modes = None, {}
    for text in q:
        key, value = _split_assignment(text, "--q")
        if key is None:
            q_default = setting(value, f"--q {text}")
        else:
            q_modes[key] = setting(value, f"--q {text}")
    r_default, r_layers = None, {}
    for text in residual:
        key, value = _split_assignment(text, "--residual")
        if key is None:
            r_default = setting(value, f"--residual {text}")
        else:
            r_layers[key] = setting(value, f"--residual {text}")
    p_levels = {
        level: setting(value, f"--p-{level.value.replace('_', '-')} {value}")
        for level, value in (
            (Level.PRONE, p_prone),
            (Level.UNCLEAR, p_unclear),
            (Level.NOT_PRONE, p_not_prone),
        )
        if value is not None
    }
    p_cells = {}
    for text in p:
        key, value = _split_assignment(text, "--p")
        technique, colon, mode = (key or "").partition(":")
        if key is None or not colon or not technique or not mode:
            raise InputError(
                COMMAND_LINE,
                f"--p {text}",
                "expected TECHNIQUE:MODE=VALUE",
                "e.g. --p RLHF:DEC-AL=0.7",
            )
        p_cells[(technique.strip(), mode.strip())] = setting(value, f"--p {text}")
    return PartialParameters(q_default, q_modes, p_levels, p_cells, r_default, r_layers)


def parse_costs(items: Sequence[str], *, source: str = COMMAND_LINE) -> dict[SafetyTax, float]:
    """``--cost`` values (``["high=5", "unclear=3"]``) -> the default costs with those replaced.

    >>> parse_costs(["high=5"])[SafetyTax.HIGH], parse_costs([])[SafetyTax.UNCLEAR]
    (5.0, 2.5)
    """
    from ddrisk.risk.optimize import DEFAULT_COSTS  # pandas-free start-up for other commands

    costs = dict(DEFAULT_COSTS)
    for item in items:
        key, sep, value = item.partition("=")
        where = f"--cost {item}"
        try:
            tax = SafetyTax(key.strip().lower())
        except ValueError:
            raise InputError(
                source,
                where,
                f"unknown safety-tax level '{key}'",
                "use low, medium, high or unclear",
            ) from None
        try:
            cost = float(value)
        except ValueError:
            cost = math.nan
        if not sep or not math.isfinite(cost) or cost < 0:
            raise InputError(
                source, where, "expected LEVEL=COST with a cost >= 0", "e.g. --cost high=5"
            )
        costs[tax] = cost
    return costs
