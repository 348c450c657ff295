"""A verdict given twice inside one result file is an error, as it is across files."""

from __future__ import annotations

import copy
import json
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.io.inspect_log import read_inspect
from ddrisk.io.promptfoo import read_promptfoo

GOLDEN = Path(__file__).parents[1] / "fixtures" / "golden"


def test_promptfoo_result_repeated_for_one_test_is_an_error(tmp_path):
    data = json.loads((GOLDEN / "promptfoo" / "results.json").read_text())
    rows = data["results"]["results"]
    rows[1]["testIdx"] = rows[0]["testIdx"]  # two results now claim test 0
    path = tmp_path / "results.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        read_promptfoo(path)
    assert caught.value.where is not None and "results.results[1]" in caught.value.where
    assert "twice" in caught.value.problem


def test_inspect_sample_repeated_is_an_error(tmp_path):
    data = json.loads((GOLDEN / "inspect" / "guard_stack.json").read_text())
    data["samples"].append(copy.deepcopy(data["samples"][0]))
    path = tmp_path / "log.json"
    path.write_text(json.dumps(data))
    with pytest.raises(InputError) as caught:
        read_inspect(path)
    assert "twice" in caught.value.problem
