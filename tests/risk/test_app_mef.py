"""Open-PSA MEF export: schema-valid, structurally faithful, numbers recomputable."""

from __future__ import annotations

import shutil
import subprocess

import numpy as np
import pytest
from hypothesis import given, settings
from lxml import etree

from ddrisk.errors import InputError
from ddrisk.io.mef import mef_identifier, mef_to_model, model_to_mef, validate_mef
from ddrisk.risk.model import FailureModeModel
from ddrisk.risk.parameters import resolve_parameters
from tests.risk.support import brute_force_probability, mef_schema_paths, small_models

SCHEMAS = mef_schema_paths()
needs_schema = pytest.mark.skipif(
    not SCHEMAS, reason="no Open-PSA MEF schema here: set DDRISK_MEF_SCHEMA to SCRAM's input.rng"
)


@needs_schema
@pytest.mark.parametrize("schema", SCHEMAS, ids=str)
def test_builtin_stack_validates(builtin, schema):
    model = resolve_parameters(builtin, builtin.technique_ids).model
    assert validate_mef(model_to_mef(model, name="dung-mai all seven"), schema_path=schema) == []


@needs_schema
@settings(max_examples=25, deadline=None)
@given(small_models())
def test_random_models_validate_and_round_trip(model):
    xml = model_to_mef(model)
    assert validate_mef(xml, schema_path=SCHEMAS[0]) == []
    back = mef_to_model(xml)
    assert back.layers == model.layers
    assert brute_force_probability(back) == pytest.approx(
        brute_force_probability(model), rel=1e-12, abs=1e-300
    )


@needs_schema
def test_invalid_documents_are_reported():
    problems = validate_mef("<opsa-mef><define-gate name='x'/></opsa-mef>", schema_path=SCHEMAS[0])
    assert problems and all(p.startswith("line ") for p in problems)
    assert validate_mef("<opsa-mef>", schema_path=SCHEMAS[0])[0].startswith(
        "line 1: not well-formed"
    )


def test_structure_matches_the_model():
    model = FailureModeModel(
        layers=("A", "B.v2"),
        modes=("X", "Y", "Z"),
        q=[0.1, 0.3, 0.0],
        p=[[1.0, 0.0, 1.0], [0.5, 0.2, 1.0]],
        r=[0.0, 0.2],
    )
    root = etree.fromstring(model_to_mef(model).encode())
    events = {
        e.get("name"): float(e.find("float").get("value")) for e in root.iter("define-basic-event")
    }
    # mode Z has q = 0 and A x Y has p = 0: both omitted; A has no residual; A x X has p = 1,
    # so mode X feeds layer A directly, with no cell event.
    assert events == {
        "mode_X": 0.1,
        "mode_Y": 0.3,
        "residual_B_v2": 0.2,
        "cell_B_v2_X": 0.5,
        "cell_B_v2_Y": 0.2,
    }
    gates = {g.get("name"): g for g in root.iter("define-gate")}
    top = gates["stack_fails"]
    assert [child.get("name") for child in top.find("and")] == ["layer_A", "layer_B_v2"]
    # One-argument gates are written as the argument itself (SCRAM rejects one-child OR).
    assert gates["layer_A"].find("basic-event").get("name") == "mode_X"
    assert [c.get("name") for c in gates["layer_B_v2"].find("or")] == [
        "residual_B_v2",
        "via_B_v2_X",
        "via_B_v2_Y",
    ]
    assert [c.get("name") for c in gates["via_B_v2_X"].find("and")] == ["mode_X", "cell_B_v2_X"]


def test_identifiers_are_safe_and_unique():
    assert (
        mef_identifier("a.b") == "a_b"
        and mef_identifier("-x") == "_x"
        and mef_identifier("9") == "_9"
    )
    model = FailureModeModel(
        layers=("a.b", "a_b"), modes=("m",), q=[0.5], p=[[1.0], [1.0]], r=[0.1, 0.1]
    )
    names = [
        e.get("name")
        for e in etree.fromstring(model_to_mef(model).encode()).iter("define-basic-event")
    ]
    assert len(names) == len(set(names)) == 3  # the mode and two residuals (cells have p = 1)


def test_never_failing_layer_is_a_false_constant():
    model = FailureModeModel(
        layers=("A", "B"), modes=("X",), q=[0.5], p=[[1.0], [0.0]], r=[0.0, 0.0]
    )
    root = etree.fromstring(model_to_mef(model).encode())
    layer_b = next(g for g in root.iter("define-gate") if g.get("name") == "layer_B")
    assert layer_b.find("constant").get("value") == "false"
    if SCHEMAS:
        assert validate_mef(model_to_mef(model), schema_path=SCHEMAS[0]) == []


def test_missing_schema_is_a_clear_error(tmp_path, monkeypatch):
    with pytest.raises(InputError, match="no such schema file"):
        validate_mef("<opsa-mef/>", schema_path=tmp_path / "none.rng")
    monkeypatch.setenv("DDRISK_MEF_SCHEMA", str(tmp_path / "none.rng"))
    with pytest.raises(InputError, match=r"\$DDRISK_MEF_SCHEMA"):
        validate_mef("<opsa-mef/>")


@pytest.mark.skipif(
    shutil.which("scram") is None, reason="SCRAM (Debian package scram) not installed"
)
def test_scram_reproduces_the_probability(builtin, tmp_path):
    model = resolve_parameters(builtin, ["RLHF", "DEBATE", "RE", "SCIAI"]).model
    source = tmp_path / "stack.xml"
    source.write_text(model_to_mef(model))
    report = tmp_path / "report.xml"
    subprocess.run(
        ["scram", "--bdd", "--probability", "1", "-l", "1", str(source), "-o", str(report)],
        check=True,
        capture_output=True,
        timeout=60,
    )
    products = etree.parse(str(report)).find(".//sum-of-products")
    assert float(products.get("probability")) == pytest.approx(
        brute_force_probability(model), rel=1e-3
    )
    assert np.isfinite(float(products.get("probability")))
