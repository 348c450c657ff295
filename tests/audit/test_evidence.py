"""Stress-test counts in a stack file (`evidence.counts`) become Beta posteriors in the audit.

The expected numbers are worked out here from the counts and the prior alone: a point residual
``r`` is a Beta prior of mean ``r`` worth two pseudo-observations, so ``k`` failures of ``n``
give the posterior mean ``(2 r + k) / (2 + n)``. P(all layers fail) is then recomputed from the
common-cause model's closed form for two layers.
"""

from __future__ import annotations

import hashlib
import json
import math
import textwrap
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk.cli import main

PRIOR_RESIDUAL = 0.2
PRIOR_STRENGTH = 2.0


def write_stack(tmp_path: Path, counts_text: str | None, *, rlhf_residual: float) -> Path:
    evidence = "evidence:\n  counts: counts.json\n" if counts_text is not None else ""
    stack = textwrap.dedent(
        f"""\
        format: ddrisk.stack/1
        id: evidence
        title: Evidence stack
        catalog: dung-mai-2025
        layers:
          - {{id: rlhf, technique: RLHF, residual: {rlhf_residual!r}}}
          - {{id: filter, technique: RE}}
        risk:
          q: {{default: 0.1}}
        """
    )
    tmp_path.mkdir(parents=True, exist_ok=True)
    path = tmp_path / "stack.yaml"
    path.write_text(stack + evidence, encoding="utf-8")
    if counts_text is not None:
        (tmp_path / "counts.json").write_text(counts_text, encoding="utf-8")
    return path


def audit_record(path: Path) -> dict:
    result = CliRunner().invoke(main, ["audit", str(path), "--json", "--draws", "20"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def posterior_mean(prior: float, failures: int, n: int) -> float:
    return (PRIOR_STRENGTH * prior + failures) / (PRIOR_STRENGTH + n)


def closed_form(q: list[float], p: list[list[float]], r: list[float]) -> tuple[list[float], float]:
    """Layer marginals and P(both fail): shocks q_m, each layer misses a shock with p, plus r."""
    survive = [
        (1 - r_i) * math.prod(1 - q_m * p_im for q_m, p_im in zip(q, p_i, strict=True))
        for p_i, r_i in zip(p, r, strict=True)
    ]
    both_survive = (1 - r[0]) * (1 - r[1])
    for m, q_m in enumerate(q):
        both_survive *= 1 - q_m + q_m * (1 - p[0][m]) * (1 - p[1][m])
    marginals = [1 - s for s in survive]
    return marginals, 1 - survive[0] - survive[1] + both_survive


@pytest.mark.parametrize(("failures", "n"), [(9, 20), (0, 40)])
def test_counts_move_the_audit_by_the_beta_posterior(tmp_path, failures, n):
    counts = json.dumps({"rlhf": {"failures": failures, "n": n}})
    without = audit_record(write_stack(tmp_path / "a", None, rlhf_residual=PRIOR_RESIDUAL))
    stack = write_stack(tmp_path / "b", counts, rlhf_residual=PRIOR_RESIDUAL)
    record = audit_record(stack)
    expected_r = posterior_mean(PRIOR_RESIDUAL, failures, n)
    risk = record["risk"]
    params = risk["assessment"]["result"]["parameters"]
    assert params["r"][0] == pytest.approx(expected_r, rel=1e-12)
    assert params["r"][1] == without["risk"]["assessment"]["result"]["parameters"]["r"][1]
    marginals, p_all = closed_form(params["q"], params["p"], [expected_r, params["r"][1]])
    layers = {row["layer"]: row for row in risk["assessment"]["layers"]}
    assert layers["rlhf"]["marginal"] == pytest.approx(marginals[0], rel=1e-9)
    assert layers["filter"]["marginal"] == pytest.approx(marginals[1], rel=1e-9)
    assert risk["probability"] == pytest.approx(p_all, rel=1e-9)
    # 9 of 20 is worse than the prior's 0.2, 0 of 40 better: the numbers move that way.
    before = without["risk"]
    before_rlhf = before["assessment"]["layers"][0]["marginal"]
    direction = 1 if failures / n > PRIOR_RESIDUAL else -1
    assert direction * (risk["probability"] - before["probability"]) > 0
    assert direction * (layers["rlhf"]["marginal"] - before_rlhf) > 0
    assert before["evidence"] is None


def test_record_names_the_counts_and_their_hash(tmp_path):
    counts = json.dumps({"layers": {"rlhf": {"failures": 3, "n": 10}}})
    stack = write_stack(tmp_path, counts, rlhf_residual=PRIOR_RESIDUAL)
    evidence = audit_record(stack)["risk"]["evidence"]
    digest = hashlib.sha256((tmp_path / "counts.json").read_bytes()).hexdigest()
    assert evidence["counts_sha256"] == digest
    assert evidence["counts"]["layers"] == {"rlhf": {"failures": 3, "n": 10}}
    (update,) = evidence["updates"]
    assert update["target"] == "residual.rlhf"
    assert update["prior"] == "beta(0.4, 1.6)" and update["posterior"] == "beta(3.4, 8.6)"
    assert update["posterior_mean"] == pytest.approx(posterior_mean(PRIOR_RESIDUAL, 3, 10))


@pytest.mark.parametrize(
    ("counts", "expected"),
    [
        # a layer the stack does not deploy, even a candidate technique of the catalog
        ('{"rlhf": {"failures": 1, "n": 5},\n "SCIAI": {"failures": 1, "n": 5}}', "line 2"),
        (
            '{"layers": {\n  "rlhf": {"failures": 1, "n": 5},\n  "bogus": {"failures": 1, "n": 5}}}',
            "line 3",
        ),
        ('{"rlhf": {"failures": 7, "n": 5}}', "failures 7 > n 5"),
        ('{"rlhf": {"failures": 1, "n": 5}', "line 1"),
        ('{"rlhf": {"failures": "many", "n": 5}}', "not a count"),
    ],
)
def test_bad_counts_give_one_located_line_and_exit_2(tmp_path, counts, expected):
    stack = write_stack(tmp_path, counts, rlhf_residual=PRIOR_RESIDUAL)
    result = CliRunner().invoke(main, ["audit", str(stack)])
    assert result.exit_code == 2, result.output
    lines = result.output.strip().splitlines()
    assert len(lines) == 1 and "Traceback" not in result.output
    assert "counts.json" in lines[0] and expected in lines[0]
    if "SCIAI" in counts or "bogus" in counts:
        assert "unknown layer" in lines[0] and "rlhf, filter" in lines[0]


def test_missing_counts_file_points_at_the_stack_file(tmp_path):
    stack = write_stack(tmp_path, "{}", rlhf_residual=PRIOR_RESIDUAL)
    (tmp_path / "counts.json").unlink()
    result = CliRunner().invoke(main, ["audit", str(stack)])
    assert result.exit_code == 2
    assert "stack.yaml" in result.output and "evidence.counts" in result.output
