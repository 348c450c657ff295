"""The one NaN/inf convention for JSON records (ddrisk._jsonnum)."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest

from ddrisk._jsonnum import json_number, json_ready


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        (0.25, 0.25),
        (float("inf"), "inf"),
        (float("-inf"), "-inf"),
        (None, None),
        (np.float32(0.5), 0.5),
    ],
)
def test_json_number(value: float | None, expected: object) -> None:
    assert json_number(value) == expected


def test_nan_is_null_never_infinity() -> None:
    # One old helper turned NaN into "inf" (NaN < 0 is False): undefined must never read as infinite.
    assert json_number(float("nan")) is None
    assert json_number(np.float64("nan")) is None


def test_json_ready_is_strict_json_and_keeps_keys() -> None:
    record = {
        "rate": np.float64("nan"),
        "log_p": -math.inf,
        "counts": np.array([1, 2], dtype=np.int64),
        "flags": (np.bool_(True), False),
        "nested": {"x": [np.float32(1.5), float("inf")]},
        "label": "a",
    }
    ready = json_ready(record)
    assert set(ready) == set(record)
    text = json.dumps(ready, allow_nan=False)  # raises on any NaN/Infinity left
    assert json.loads(text) == {
        "rate": None,
        "log_p": "-inf",
        "counts": [1, 2],
        "flags": [True, False],
        "nested": {"x": [1.5, "inf"]},
        "label": "a",
    }
    assert float(ready["log_p"]) == -math.inf  # infinities read back with float()


def test_exact_result_log_probability() -> None:
    from ddrisk.risk.exact import ExactResult

    def record(log_p: float) -> object:
        result = ExactResult(
            probability=0.0,
            log_probability=log_p,
            method="test",
            elapsed_seconds=0.0,
            n_components=1,
            largest_component=(1, 1),
        )
        return result.to_dict()["log_probability"]

    assert record(-math.inf) == "-inf"  # an impossible failure keeps its meaning
    assert record(float("nan")) is None  # was "inf" before the shared helper
    assert record(-3.5) == -3.5
