"""Parameter and counts files read in io/, validated by the pure risk core; the API speaks of
parameters, not flags."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.io.catalog import load_catalog
from ddrisk.io.counts import read_stress_counts
from ddrisk.io.parameters import build_parameters, read_parameter_file
from ddrisk.risk import assess_stack, optimize_stack, propagate_uncertainty, resolve_parameters
from ddrisk.risk.evidence import StressCounts, StressCountsFile


def test_duplicate_key_in_a_parameter_file_is_rejected(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("q:\n  default: 0.1\n  default: 0.3\n")
    with pytest.raises(InputError) as caught:
        read_parameter_file(path)
    assert str(caught.value) == (
        f"{path}: line 3: duplicate key 'default' in q; fix: keep one entry per key"
    )
    path.write_text('{"q": {"default": 0.1}, "q": {"default": 0.3}}')
    with pytest.raises(InputError, match="duplicate key 'q'"):
        read_parameter_file(path)  # JSON content in a .yaml file: still one entry per key


def test_json_parameter_file_errors_carry_lines(tmp_path: Path) -> None:
    path = tmp_path / "p.json"
    path.write_text('{\n  "q": {"default": 0.1},\n  "p": {"prone": 1.7}\n}\n')
    with pytest.raises(InputError, match=r"p.json: line 3 \(p.prone\): 1.7 is not a probability"):
        build_parameters(params_file=path)


def test_parameter_file_limits(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    bomb = ["a: &a [0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1, 0.1]"]
    bomb += [
        f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join(['*' + chr(97 + i)] * 10)}]" for i in range(7)
    ]
    path.write_text("\n".join(bomb) + "\n")
    with pytest.raises(InputError, match="expands to more than"):
        read_parameter_file(path)


def test_empty_parameter_file_sets_nothing(tmp_path: Path) -> None:
    path = tmp_path / "p.yaml"
    path.write_text("# nothing yet\n")
    assert build_parameters(params_file=path) == build_parameters()


def test_counts_files_json_and_yaml(tmp_path: Path) -> None:
    as_json = tmp_path / "c.json"
    as_json.write_text(json.dumps({"RLHF": {"failures": 2, "n": 10}}))
    as_yaml = tmp_path / "c.yaml"
    as_yaml.write_text("RLHF: {failures: 2, n: 10}\n")
    assert read_stress_counts(as_json).layers == read_stress_counts(as_yaml).layers
    duplicated = tmp_path / "d.json"
    duplicated.write_text('{"RLHF": {"failures": 2, "n": 10, "n": 20}}')
    with pytest.raises(InputError, match=r"d.json: line 1: duplicate key 'n' in RLHF"):
        read_stress_counts(duplicated)
    with pytest.raises(InputError, match="is a folder"):
        read_stress_counts(tmp_path)


def test_astronomical_counts_are_refused(tmp_path: Path) -> None:
    path = tmp_path / "c.json"
    path.write_text('{"RLHF": {"failures": 1, "n": 1' + "0" * 19 + "}}")
    with pytest.raises(InputError, match=r"c.json: RLHF.n: a 20-digit count is more than"):
        read_stress_counts(path)
    path.write_text('{"RLHF": {"failures": 1, "n": 1' + "0" * 400 + "}}")
    with pytest.raises(InputError, match=r"c.json: malformed JSON: an integer past 1e300"):
        read_stress_counts(path)


def test_assess_stack_takes_counts_without_params() -> None:
    """Was AttributeError: counts applied to params=None."""
    catalog = load_catalog()
    counts = StressCountsFile(layers={"RLHF": StressCounts(3, 20)}, source="measured")
    risk = assess_stack(catalog, ["RLHF", "RE"], counts=counts)
    update = risk.evidence["updates"][0]
    assert update.target == "residual.RLHF" and (update.failures, update.n) == (3, 20)
    assert risk.resolved.model.r[0] != assess_stack(catalog, ["RLHF", "RE"]).resolved.model.r[0]


def test_api_errors_name_parameters_not_flags() -> None:
    catalog = load_catalog()
    with pytest.raises(InputError) as caught:
        optimize_stack(catalog, max_layers=0)
    assert str(caught.value).startswith("max_layers: ") and "--" not in str(caught.value)
    with pytest.raises(InputError) as caught:
        optimize_stack(catalog, budget=-1.0)
    assert str(caught.value).startswith("budget: ") and "--" not in str(caught.value)
    with pytest.raises(InputError) as caught:
        propagate_uncertainty(resolve_parameters(catalog, ["RLHF"]), n_draws=0)
    assert str(caught.value).startswith("n_draws: ")
    with pytest.raises(InputError) as caught:
        resolve_parameters(catalog, ["NOPE"])
    assert str(caught.value).startswith("stack: NOPE: ")
