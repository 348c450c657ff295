"""A label key the user names must exist somewhere: a typo is an error, not a silent default."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from ddrisk.errors import InputError
from ddrisk.io.inspect_log import read_inspect
from ddrisk.io.promptfoo import read_promptfoo

FIXTURES = Path(__file__).parents[1] / "fixtures" / "stress"
PROMPTFOO = FIXTURES / "promptfoo_small.json"
INSPECT = FIXTURES / "inspect_small.json"


@pytest.mark.parametrize("option", ["harmful_key", "family_key", "behavior_key"])
def test_promptfoo_named_key_found_in_no_record_is_an_error(option):
    with pytest.raises(InputError) as caught:
        read_promptfoo(PROMPTFOO, **{option: "harmfull"})
    error = caught.value
    assert error.source == str(PROMPTFOO)
    assert option in error.where
    assert "'harmfull'" in error.problem and "no result" in error.problem
    assert "family" in error.fix  # the keys that do exist are listed


@pytest.mark.parametrize("option", ["harmful_key", "family_key", "behavior_key"])
def test_inspect_named_key_found_in_no_record_is_an_error(option):
    with pytest.raises(InputError) as caught:
        read_inspect(INSPECT, **{option: "fam"})
    error = caught.value
    assert option in error.where and "'fam'" in error.problem
    assert "family" in error.fix


def test_default_keys_may_be_absent_and_named_keys_that_exist_work(tmp_path):
    data = json.loads(INSPECT.read_text())
    for sample in data["samples"]:
        sample["metadata"] = {"kind": sample["metadata"].get("family", "x")}
    path = tmp_path / "plain.json"
    path.write_text(json.dumps(data))
    plain = read_inspect(path)  # default keys: absent everywhere is fine
    assert set(plain.items["family"]) == {"unspecified"}
    renamed = read_inspect(path, family_key="kind")
    assert "unspecified" not in set(renamed.items["family"])
    # A named key present in at least one record is accepted (others fall back).
    data["samples"][0]["metadata"]["label"] = "benign"
    path.write_text(json.dumps(data))
    some = read_inspect(path, harmful_key="label")
    assert not some.items["harmful"].iloc[0] and some.items["harmful"].iloc[1:].all()


def test_cli_mistyped_harmful_key_is_one_line_and_exit_2():
    from click.testing import CliRunner

    from ddrisk.cli import main

    result = CliRunner().invoke(
        main,
        ["stress", "analyze", str(PROMPTFOO), "--harmful-key", "harmfull", "--bootstrap", "50"],
    )
    assert result.exit_code == 2, result.output
    assert "harmfull" in result.output and "Traceback" not in result.output
