"""One default for every statistical setting: the API and the CLI cite ``ddrisk.defaults``.

The test walks every click command and every public entry point that takes a seed, a number of
bootstrap replicates, a number of Monte Carlo draws or a confidence level, so a new command
that types ``default=1000`` by hand fails here.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable, Iterator
from typing import Any

import click
import pytest

from ddrisk import defaults
from ddrisk.cli import COMMANDS
from ddrisk.cli import main as cli

EXPECTED = {
    "seed": defaults.SEED,
    "n_draws": defaults.UNCERTAINTY_DRAWS,
    "n_boot": defaults.BOOTSTRAP_REPLICATES,
    "n_bootstrap": defaults.BOOTSTRAP_REPLICATES,
    "confidence": defaults.CONFIDENCE,
    "n_samples": defaults.SAMPLER_DRAWS,
}
OFF = 0
"""A count of draws may default to 0 where 0 means "not computed" (``risk --uncertainty``)."""


def _commands(group: click.Group, ctx: click.Context, prefix: str) -> Iterator[tuple[str, Any]]:
    for name in group.list_commands(ctx):
        command = group.get_command(ctx, name)
        if command is None:
            continue
        path = f"{prefix} {name}".strip()
        if isinstance(command, click.Group):
            yield from _commands(command, ctx, path)
        else:
            yield path, command


def _cli_defaults() -> list[tuple[str, str, Any]]:
    ctx = click.Context(cli)
    found = []
    for path, command in _commands(cli, ctx, ""):
        for param in command.params:
            if param.name in EXPECTED and isinstance(param, click.Option):
                found.append((path, param.name, param.default))
    return found


def test_every_command_option_cites_the_shared_default() -> None:
    found = _cli_defaults()
    assert {name for _, name, _ in found} >= {"seed", "n_draws"}
    assert len({path for path, _, _ in found}) >= 6, found
    wrong = [
        (path, name, value)
        for path, name, value in found
        if value != EXPECTED[name] and not (name == "n_draws" and value == OFF)
    ]
    assert not wrong, f"options with their own default: {wrong}"
    assert set(COMMANDS) <= {path.split()[0] for path, _ in _commands(cli, click.Context(cli), "")}


def _entry_points() -> list[Callable[..., Any]]:
    from ddrisk.audit.engine import run_audit
    from ddrisk.raters.agreement import rater_agreement
    from ddrisk.raters.spread import disagreement_uncertainty
    from ddrisk.report.risk_sections import risk_input_for_stack
    from ddrisk.risk.assessment import assess_stack
    from ddrisk.risk.dependence import compare_dependence_models, stack_curve
    from ddrisk.risk.engine import compute_stack_failure
    from ddrisk.risk.propagation import propagate_uncertainty
    from ddrisk.risk.sampling import importance_sample
    from ddrisk.stress.attack.api import run_attack_request
    from ddrisk.stress.attack.statistics import analyze_attack
    from ddrisk.stress.experiment import analyze_run, run_experiment

    return [
        run_audit,
        rater_agreement,
        disagreement_uncertainty,
        risk_input_for_stack,
        propagate_uncertainty,
        assess_stack,
        compute_stack_failure,
        compare_dependence_models,
        stack_curve,
        importance_sample,
        run_attack_request,
        analyze_attack,
        analyze_run,
        run_experiment,
    ]


@pytest.mark.parametrize("function", _entry_points(), ids=lambda f: f.__qualname__)
def test_every_entry_point_cites_the_shared_default(function: Callable[..., Any]) -> None:
    parameters = inspect.signature(function).parameters
    checked = {name: p.default for name, p in parameters.items() if name in EXPECTED}
    assert checked, f"{function.__qualname__} takes none of {sorted(EXPECTED)}"
    wrong = {
        name: value
        for name, value in checked.items()
        if value is not None
        and value != EXPECTED[name]
        and not (name == "n_draws" and value == OFF)
    }
    assert not wrong, f"{function.__qualname__} has its own defaults: {wrong}"


def test_the_check_sees_a_hand_typed_default() -> None:
    @click.command()
    @click.option("--seed", type=int, default=7)
    def stray(seed: int) -> None:  # pragma: no cover - never invoked
        del seed

    group = click.Group(commands={"stray": stray})
    found = [
        (path, p.name, p.default)
        for path, command in _commands(group, click.Context(group), "")
        for p in command.params
    ]
    assert found == [("stray", "seed", 7)] and found[0][2] != EXPECTED["seed"]
