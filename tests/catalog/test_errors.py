"""Bad catalogs give one located line, exit status 2 and no traceback."""

from __future__ import annotations

import json
import re

import pytest
import yaml
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.errors import InputError
from ddrisk.io.catalog import dump_catalog, load_catalog


@pytest.fixture(scope="module")
def valid_data():
    return yaml.safe_load(dump_catalog(load_catalog()))


def _validate(tmp_path, text: str, name: str = "cat.yaml"):
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    result = CliRunner().invoke(main, ["validate", str(path)])
    return path, result


def _assert_one_line_error(result, path, *fragments):
    assert result.exit_code == 2, result.output
    output = result.output.strip()
    assert "Traceback" not in output
    assert len(output.splitlines()) == 1, output
    assert str(path) in output
    for fragment in fragments:
        assert re.search(fragment, output), (fragment, output)


def _mutated(data, mutate) -> str:
    copy = json.loads(json.dumps(data))
    mutate(copy)
    return yaml.safe_dump(copy, sort_keys=False, allow_unicode=True)


def test_valid_catalog_passes(tmp_path, valid_data):
    _, result = _validate(tmp_path, yaml.safe_dump(valid_data, sort_keys=False, allow_unicode=True))
    assert result.exit_code == 0 and "ok" in result.output


def test_malformed_yaml_names_line_and_column(tmp_path):
    path, result = _validate(tmp_path, "id: x\ntechniques: [a, b\nversion: 1\n")
    _assert_one_line_error(result, path, r"line \d+, column \d+", "malformed YAML")


def test_empty_file(tmp_path):
    path, result = _validate(tmp_path, "")
    _assert_one_line_error(result, path, "empty")


def test_top_level_not_a_mapping(tmp_path):
    path, result = _validate(tmp_path, "- a\n- b\n")
    _assert_one_line_error(result, path, "mapping")


def test_unknown_technique_in_rating_points_at_its_line(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["ratings"][3].update(technique="RLFH"))
    path, result = _validate(tmp_path, text)
    expected_line = next(
        i for i, line in enumerate(text.splitlines(), 1) if "technique: RLFH" in line
    )
    _assert_one_line_error(
        result, path, f"line {expected_line}", "unknown technique 'RLFH'", "fix: use one of"
    )


def test_duplicate_technique_id(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["techniques"][1].update(id="RLHF"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, r"techniques\[1\]\.id", "duplicate technique id 'RLHF'")


def test_duplicate_failure_mode_id(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["failure_modes"][2].update(id="S-TAX"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, "duplicate failure mode id 'S-TAX'")


def test_missing_cells(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["ratings"].pop(10))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, "1 missing cell", "RLAIF x COLL")


def test_extra_duplicate_cell(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["ratings"].append(dict(d["ratings"][0])))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, r"ratings\[49\]", "duplicate rating for cell RLHF x S-TAX")


def test_probability_out_of_range(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["ratings"][5].update(probability=1.5))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, r"ratings\[5\]\.probability", "out of range", "fix:")


def test_wrong_type(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["ratings"][5].update(probability="high"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, r"ratings\[5\]\.probability", "number")


def test_invalid_level_value(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["ratings"][0].update(level="maybe"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, r"ratings\[0\]\.level", "'maybe'", "prone")


def test_extra_key(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["techniques"][0].update(colour="red"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, "unknown key 'colour'")


def test_missing_required_key(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["failure_modes"][0].pop("name"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, r"failure_modes\[0\]", "missing required key 'name'")


def test_unknown_rater(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["ratings"][7].update(rater="nobody"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, "unknown rater 'nobody'")


def test_rating_without_level_or_probability(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["ratings"][7].pop("level"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, r"ratings\[7\]", "needs a 'level'")


def test_bad_id_pattern(tmp_path, valid_data):
    text = _mutated(valid_data, lambda d: d["techniques"][0].update(id="9 lives"))
    path, result = _validate(tmp_path, text)
    _assert_one_line_error(result, path, "invalid id")


def test_duplicate_yaml_key(tmp_path):
    path, result = _validate(tmp_path, "id: a\nid: b\n")
    _assert_one_line_error(result, path, "line 2", "duplicate key 'id'")


def test_json_catalog_accepted_and_json_errors_located(tmp_path, valid_data):
    path, result = _validate(tmp_path, json.dumps(valid_data, indent=1), name="cat.json")
    assert result.exit_code == 0
    broken = json.dumps(valid_data, indent=1).replace('"level": "prone"', '"level": "prone",,', 1)
    path, result = _validate(tmp_path, broken, name="broken.json")
    _assert_one_line_error(result, path, r"line \d+")


def test_unknown_catalog_name_is_an_input_error():
    with pytest.raises(InputError, match="no built-in catalog"):
        load_catalog("no-such-catalog")
    result = CliRunner().invoke(main, ["show", "--catalog", "no-such-catalog"])
    assert result.exit_code == 2 and "dung-mai-2025" in result.output


def test_unknown_stack_id_on_command_line():
    result = CliRunner().invoke(main, ["analyze", "--stack", "RLHF,NOPE"])
    assert result.exit_code == 2
    assert "unknown id 'NOPE'" in result.output and "Traceback" not in result.output
