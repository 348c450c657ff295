"""Uncertainty: distribution specs, seeded Monte Carlo, tornado and Beta posteriors."""

from __future__ import annotations

import json

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from ddrisk.cli._parse import parameters_from_cli
from ddrisk.errors import InputError
from ddrisk.io.counts import read_stress_counts as load_stress_counts
from ddrisk.io.parameters import build_parameters
from ddrisk.risk.distributions import (
    BetaDistribution,
    FixedValue,
    Interval90,
    LogUniformDistribution,
    UniformDistribution,
    parse_distribution,
)
from ddrisk.risk.evidence import StressCounts, beta_posterior, joint_posterior, prior_as_beta
from ddrisk.risk.parameters import resolve_parameters
from ddrisk.risk.propagation import propagate_uncertainty
from tests.conftest import make_catalog
from tests.risk.support import brute_evaluate, brute_force_probability

CATALOG = make_catalog(
    [
        ["prone", "not_prone", "unclear"],
        ["prone", "prone", "not_prone"],
        ["unclear", "prone", "prone"],
    ]
)


def resolved_with(**cli):
    return resolve_parameters(
        CATALOG, ["T0", "T1", "T2"], build_parameters(cli=parameters_from_cli(**cli))
    )


def test_specs_parse_to_the_documented_distributions():
    assert parse_distribution("0.25") == FixedValue(0.25)
    assert parse_distribution("Beta(2,8)") == BetaDistribution(2.0, 8.0)
    assert parse_distribution(" uniform( 0.1 , 0.3 ) ") == UniformDistribution(0.1, 0.3)
    assert parse_distribution("loguniform(1e-4, 1e-2)") == LogUniformDistribution(1e-4, 1e-2)
    interval = parse_distribution("interval(0.01, 0.3)")
    assert isinstance(interval, Interval90)
    assert interval.percentile(5) == pytest.approx(0.01, rel=1e-9)
    assert interval.percentile(95) == pytest.approx(0.3, rel=1e-9)
    draws = interval.sample(np.random.default_rng(0), 200_000)
    assert np.mean(draws) == pytest.approx(interval.mean, rel=5e-3)
    assert LogUniformDistribution(1e-4, 1e-2).mean == pytest.approx(
        np.mean(LogUniformDistribution(1e-4, 1e-2).ppf((np.arange(10**5) + 0.5) / 10**5)), rel=1e-4
    )


@pytest.mark.parametrize(
    ("spec", "problem"),
    [
        ("1.2", "not a probability"),
        ("beta(-1, 2)", "beta needs a > 0"),
        ("uniform(0.3, 0.1)", "bounds must satisfy"),
        ("loguniform(0, 0.1)", "bounds must satisfy"),
        ("interval(0.1, 1)", "bounds must satisfy"),
        ("gamma(1, 2)", "unknown distribution"),
        ("beta(a, b)", "must be numbers"),
        ("lots", "cannot read"),
    ],
)
def test_bad_specs_are_located_errors(spec, problem):
    with pytest.raises(InputError, match=problem) as caught:
        parse_distribution(spec, source="params.yaml", where="q.default")
    assert str(caught.value).startswith("params.yaml: q.default: ")


def test_seeded_runs_reproduce_and_differ_across_seeds():
    resolved = resolved_with(
        q=["beta(2, 18)"], p_prone="interval(0.6, 0.99)", residual=["T1=uniform(0, 0.2)"]
    )
    first = propagate_uncertainty(resolved, n_draws=300, seed=11, evaluate=brute_evaluate)
    again = propagate_uncertainty(resolved, n_draws=300, seed=11, evaluate=brute_evaluate)
    other = propagate_uncertainty(resolved, n_draws=300, seed=12, evaluate=brute_evaluate)
    np.testing.assert_array_equal(first.probability, again.probability)
    assert not np.array_equal(first.probability, other.probability)
    assert first.to_dict() == again.to_dict() and first.to_dict()["seed"] == 11
    json.dumps(first.to_dict())
    for summary in first.summary().values():
        assert summary["p05"] <= summary["p50"] <= summary["p95"]
    assert set(first.parameter_names) >= {"q.default", "p.prone", "residual.T1"}
    assert first.to_frame().shape == (300, len(first.parameter_names) + 3)


def test_degenerate_inputs_give_the_point_estimate_everywhere():
    resolved = resolved_with(q=["uniform(0.2, 0.2)"])
    result = propagate_uncertainty(resolved, n_draws=20, seed=0, evaluate=brute_evaluate)
    point = brute_force_probability(resolved.model)
    assert np.all(result.probability == point) and result.point_probability == point
    assert result.tornado == ()
    assert result.summary()["probability"]["p05"] == result.summary()["probability"]["p95"] == point


def test_monte_carlo_mean_equals_point_when_each_input_is_used_once():
    # P(stack fails) is multilinear in independent basic-event probabilities, so with one
    # independent uncertain value per entry, E[P] = P(E[theta]) (the point model uses means).
    catalog = make_catalog([["prone", "not_prone"], ["not_prone", "prone"]])
    cli = parameters_from_cli(
        q=["M0=beta(2, 6)", "M1=uniform(0.05, 0.45)"],
        p=["T0:M0=interval(0.5, 0.95)", "T0:M1=0.1", "T1:M0=0.2", "T1:M1=beta(8, 2)"],
        residual=["T0=loguniform(0.001, 0.1)", "T1=0.05"],
    )
    resolved = resolve_parameters(catalog, ["T0", "T1"], build_parameters(cli=cli))
    result = propagate_uncertainty(resolved, n_draws=4000, seed=3, evaluate=brute_evaluate)
    stderr = result.probability.std() / np.sqrt(result.n_draws)
    assert abs(result.probability.mean() - result.point_probability) < 4 * stderr


def test_tornado_ranks_inputs_by_swing_with_others_at_their_means():
    resolved = resolved_with(q=["beta(2, 18)"], p_not_prone="uniform(0.04, 0.06)")
    result = propagate_uncertainty(resolved, n_draws=200, seed=1, evaluate=brute_evaluate)
    names = [row.parameter for row in result.tornado]
    assert names == ["q.default", "p.not_prone"]  # a tiny interval moves P less
    row = result.tornado[0]
    theta = np.array([d.mean for d in resolved.distributions])
    theta[resolved.parameter_names.index("q.default")] = BetaDistribution(2, 18).percentile(95)
    assert row.probability_at_high == pytest.approx(
        brute_force_probability(resolved.model_for(theta))
    )
    assert row.probability_at_low < row.probability_at_high and row.spearman > 0.5
    assert list(result.tornado_frame().columns)[:2] == ["parameter", "spec"]


@settings(max_examples=50, deadline=None)
@given(st.floats(0.1, 20), st.floats(0.1, 20), st.integers(0, 50), st.integers(0, 50))
def test_beta_posterior_arithmetic(a, b, k, extra):
    n = k + extra
    posterior = beta_posterior(BetaDistribution(a, b), k, n)
    assert posterior.a == a + k and posterior.b == b + (n - k)
    assert posterior.mean == pytest.approx((a + k) / (a + b + n))


def test_priors_and_joint_counts():
    assert prior_as_beta(BetaDistribution(3, 7))[0] == BetaDistribution(3, 7)
    matched, how = prior_as_beta(UniformDistribution(0.0, 1.0))
    assert matched.a == pytest.approx(1.0, rel=1e-3) and matched.b == pytest.approx(1.0, rel=1e-3)
    assert "mean and variance" in how
    joint = joint_posterior(StressCounts(2, 50))
    assert joint == BetaDistribution(2.5, 48.5)
    with pytest.raises(ValueError):
        beta_posterior(BetaDistribution(1, 1), 5, 3)


def test_counts_file_formats_and_errors(tmp_path):
    flat = tmp_path / "flat.json"
    flat.write_text(json.dumps({"RLHF": {"failures": 12, "n": 50}}))
    assert load_stress_counts(flat).layers["RLHF"] == StressCounts(12, 50)
    structured = tmp_path / "joint.json"
    structured.write_text(
        json.dumps(
            {
                "layers": {"RE": {"failures": 3, "n": 40, "mode": "DEC-AL"}},
                "joint": {"failures": 1, "n": 40},
            }
        )
    )
    loaded = load_stress_counts(structured)
    assert loaded.layers["RE"].mode == "DEC-AL" and loaded.joint == StressCounts(1, 40)
    for payload, message in [
        ({"RLHF": {"failures": 5, "n": 3}}, "RLHF: failures 5 > n 3"),
        ({"RLHF": {"failures": -1, "n": 3}}, "RLHF.failures: -1 is not a count"),
        ({"RLHF": {"n": 3}}, "RLHF: missing 'failures'"),
        ({"RLHF": {"failures": 1, "n": 3, "extra": 1}}, "RLHF.extra: unknown key"),
        ([1, 2], "counts must be a JSON object"),
    ]:
        bad = tmp_path / "bad.json"
        bad.write_text(json.dumps(payload))
        with pytest.raises(InputError, match=message):
            load_stress_counts(bad)
    broken = tmp_path / "broken.json"
    broken.write_text("{")
    with pytest.raises(InputError, match=r"broken.json: line 1, column \d+: malformed JSON"):
        load_stress_counts(broken)


def test_penalty_and_effective_layers_use_the_engine_definitions(builtin):
    from ddrisk.risk.engine import compute_stack_failure

    resolved = resolve_parameters(
        builtin,
        ["RLHF", "RE", "SCIAI"],
        build_parameters(cli=parameters_from_cli(q=["beta(2, 18)"])),
    )
    result = propagate_uncertainty(resolved, n_draws=5, seed=2, engine="exact")
    for index in range(5):
        reference = compute_stack_failure(resolved.model_for(result.draws[index]), engine="exact")
        assert result.probability[index] == reference.probability
        assert result.penalty[index] == pytest.approx(reference.correlation_penalty, rel=1e-9)
        assert result.effective_layers[index] == pytest.approx(reference.effective_layers, rel=1e-9)
