"""A file from inside a ddrisk run folder is answered with the folder to pass instead."""

from __future__ import annotations

import pytest

from ddrisk.errors import InputError
from ddrisk.io.outcomes import detect_format


@pytest.mark.parametrize("name", ["results.jsonl", "manifest.json", "run.sqlite"])
def test_file_of_a_run_folder_names_the_folder(tmp_path, name):
    run = tmp_path / "20261129-171734.209-d2ce11"
    run.mkdir()
    (run / "manifest.json").write_text('{"run_id": "x"}')
    (run / "results.jsonl").write_text('{"item_id": "a"}\n')
    (run / "run.sqlite").write_bytes(b"SQLite format 3\x00")
    with pytest.raises(InputError) as caught:
        detect_format(run / name)
    assert "ddrisk run" in caught.value.problem
    assert str(run) in caught.value.fix


def test_unrelated_file_keeps_the_generic_message(tmp_path):
    path = tmp_path / "results.jsonl"
    path.write_text('{"item_id": "a"}\n')
    with pytest.raises(InputError) as caught:
        detect_format(path)
    assert "not a recognisable result file" in caught.value.problem
