"""A score threshold that is not a finite number is refused by the importers' API."""

from __future__ import annotations

import math
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.io import read_outcomes

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden"


@pytest.mark.parametrize("path", ["garak/scripted.report.jsonl", "inspect/guard_stack.json"])
@pytest.mark.parametrize("threshold", [math.nan, math.inf])
def test_non_finite_threshold_is_an_input_error(path, threshold):
    with pytest.raises(InputError) as caught:
        read_outcomes([GOLDEN / path], threshold=threshold)
    assert caught.value.where == "threshold"
