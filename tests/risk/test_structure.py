"""Structured stacks (votes, routes, nesting) against brute force, for every gate kind."""

from __future__ import annotations

import math

import numpy as np
import pytest

from ddrisk.errors import InputError
from ddrisk.io.documents import parse_document
from ddrisk.io.structure import structure_from_document
from ddrisk.risk import structure as st
from ddrisk.risk.engine import compute_stack_failure
from ddrisk.risk.exact import stack_failure_probability
from ddrisk.risk.faulttree import brute_force_probability
from ddrisk.risk.importance import importance_measures
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.sampling import importance_sample
from ddrisk.risk.structured import enumerate_structured, structure_fault_tree

LAYERS = ("A", "B", "C", "D", "E")
STRUCTURES = {
    "all_miss": st.AllMiss(LAYERS),
    "vote_2_of_3": st.AnyRoute((st.Vote(2, ("A", "B", "C")), st.AllMiss(("D", "E")))),
    "vote_1_of_5": st.Vote(1, LAYERS),
    "vote_5_of_5": st.Vote(5, LAYERS),
    "any_route": st.AnyRoute((st.AllMiss(("A", "B")), st.AllMiss(("C", "D")), "E")),
    "nested": st.AllMiss(("A", st.AnyRoute((st.Vote(2, ("B", "C", "D")), st.AllMiss(("C", "E")))))),
    "shared_layer": st.AnyRoute((st.AllMiss(("A", "B", "E")), st.AllMiss(("C", "D", "E")))),
}


def _model(seed: int, structure: st.Node) -> FailureModeModel:
    rng = np.random.default_rng(seed)
    p = rng.choice([0.0, 0.0, 0.3, 0.8, 1.0], size=(5, 4))
    return FailureModeModel(
        layers=LAYERS,
        modes=("w", "x", "y", "z"),
        q=rng.uniform(0.02, 0.5, 4),
        p=p,
        r=rng.choice([0.0, 0.01, 0.2], size=5),
        structure=structure,
    )


@pytest.mark.parametrize("kind", sorted(STRUCTURES))
@pytest.mark.parametrize("seed", range(6))
def test_structured_exact_equals_brute_force(kind: str, seed: int) -> None:
    model = _model(seed, STRUCTURES[kind])
    exact = stack_failure_probability(model).probability
    # reference 1: every basic event (modes, cells, residuals) enumerated on the fault tree
    every_event = brute_force_probability(structure_fault_tree(model))
    # reference 2: modes enumerated, layers conditionally independent given them
    by_modes = enumerate_structured(model)
    assert exact == pytest.approx(every_event, rel=1e-11, abs=1e-15)
    assert exact == pytest.approx(by_modes, rel=1e-11, abs=1e-15)


def test_all_miss_structure_is_the_default_model() -> None:
    plain = _model(3, st.AllMiss(LAYERS))
    assert plain.structure is None and not plain.structured
    assert plain.structure_name == "all miss (A, B, C, D, E)"


def test_structure_changes_the_answer_and_names_it() -> None:
    routes = _model(1, STRUCTURES["any_route"])
    plain = _model(1, STRUCTURES["all_miss"])
    result = compute_stack_failure(routes)
    assert result.probability > compute_stack_failure(plain).probability
    assert result.to_dict()["structure"] == "any route of (all miss (A, B), all miss (C, D), E)"
    assert result.method == "bdd"


@pytest.mark.parametrize("kind", ["vote_2_of_3", "nested", "shared_layer"])
def test_structured_importance_equals_conditioning(kind: str) -> None:
    model = _model(5, STRUCTURES[kind])
    fast = importance_measures(model)
    slow = importance_measures(model, method="conditioning")
    assert fast.method == "bdd-gradient"
    np.testing.assert_allclose(fast.mode_conditioned, slow.mode_conditioned, rtol=1e-9, atol=1e-14)
    np.testing.assert_allclose(
        fast.layer_conditioned, slow.layer_conditioned, rtol=1e-9, atol=1e-14
    )


def test_independence_prediction_follows_the_structure() -> None:
    model = _model(2, STRUCTURES["any_route"])
    m = dict(zip(LAYERS, model.layer_failure_probabilities(), strict=True))
    expected = 1 - (1 - m["A"] * m["B"]) * (1 - m["C"] * m["D"]) * (1 - m["E"])
    assert compute_stack_failure(model).independence_prediction == pytest.approx(expected)


@pytest.mark.parametrize("kind", ["vote_2_of_3", "shared_layer"])
def test_sampler_on_structured_stacks_is_unbiased(kind: str) -> None:
    model = _model(4, STRUCTURES[kind])
    exact = stack_failure_probability(model).probability
    sampled = importance_sample(model, n=4000, seed=2, n_integrated=1)
    assert abs(sampled.estimate - exact) < 5 * sampled.standard_error + 1e-12


def test_validation_names_the_problem() -> None:
    with pytest.raises(ValueError, match="unknown layer 'Z'"):
        st.validate_structure(st.AllMiss(("A", "Z")), ["A"])
    with pytest.raises(ValueError, match="not placed"):
        st.validate_structure(st.AllMiss(("A",)), ["A", "B"])
    with pytest.raises(ValueError, match="flag must be between 1 and 2"):
        st.validate_structure(st.Vote(3, ("A", "B")), ["A", "B"])


def test_structure_file_round_trip_and_located_errors() -> None:
    text = (
        "structure:\n  any_route:\n    - {all_miss: [A, B]}\n    - vote: {flag: 2, of: [C, D, E]}\n"
    )
    node = structure_from_document(parse_document(text, label="s.yaml"), layers=LAYERS)
    assert st.describe(node) == "any route of (all miss (A, B), 2-of-3 vote (C, D, E))"
    assert st.from_data(st.to_data(node)) == node
    bad = "structure:\n  any_route:\n    - vote: {flag: 4, of: [C, D, E]}\n"
    with pytest.raises(InputError) as caught:
        structure_from_document(parse_document(bad, label="s.yaml"))
    assert "line 3" in str(caught.value) and "flag" in str(caught.value)
    with pytest.raises(InputError, match="not placed"):
        structure_from_document(parse_document(text, label="s.yaml"), layers=[*LAYERS, "F"])


def test_log_probability_of_structures_stays_finite_far_below_1e_300() -> None:
    layers = tuple(f"L{i}" for i in range(40))
    model = FailureModeModel(
        layers=layers,
        modes=tuple(f"m{i}" for i in range(40)),
        q=[1e-20] * 40,
        p=np.eye(40),
        r=[0.0] * 40,
        structure=st.AnyRoute((st.AllMiss(layers[:20]), st.AllMiss(layers[20:]))),
    )
    result = compute_stack_failure(model)
    assert result.probability == 0.0
    assert result.log_probability == pytest.approx(math.log(2) + 20 * math.log(1e-20), rel=1e-9)
    assert result.to_dict()["probability_text"] == "2e-400"
    assert result.to_dict()["correlation_penalty_text"] == "1"
