"""A schema file given to ``export mef --validate`` that is not a RelaxNG schema is one line."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.errors import InputError
from ddrisk.io.mef import validate_mef


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (b"this is not xml\n", "not an XML schema"),
        (b"<a><b/></a>\n", "not a RelaxNG schema"),
        (b"", "not an XML schema"),
        (b"\x00\x01\x02\xff" * 100, "not an XML schema"),
    ],
)
def test_bad_schema_files(tmp_path: Path, content: bytes, problem: str) -> None:
    schema = tmp_path / "input.rng"
    schema.write_bytes(content)
    with pytest.raises(InputError, match=problem) as caught:
        validate_mef("<opsa-mef/>", schema_path=schema)
    assert caught.value.source == str(schema) and "DDRISK_MEF_SCHEMA" in (caught.value.fix or "")


def test_cli_names_the_schema_file(tmp_path: Path) -> None:
    schema = tmp_path / "input.rng"
    schema.write_text("not xml at all")
    result = CliRunner().invoke(
        main,
        ["export", "mef", "--stack", "RLHF", "--validate"],
        env={"DDRISK_MEF_SCHEMA": str(schema)},
    )
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith(f"ddrisk: error: {schema}: line 1: not an XML")
    result = CliRunner().invoke(
        main,
        ["export", "mef", "--stack", "RLHF", "--validate"],
        env={"DDRISK_MEF_SCHEMA": str(tmp_path)},
    )
    assert result.exit_code == 2 and "is not a file" in result.stderr


def test_entities_are_not_expanded(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("TOP SECRET")
    schema = tmp_path / "input.rng"
    schema.write_text(
        f'<?xml version="1.0"?><!DOCTYPE g [<!ENTITY s SYSTEM "file://{secret}">]>'
        '<grammar xmlns="http://relaxng.org/ns/structure/1.0"><start>'
        '<element name="opsa-mef"><value>&s;</value></element></start></grammar>'
    )
    # The external entity stays unexpanded: the file is never read into the schema.
    with pytest.raises(InputError, match="not a RelaxNG schema") as caught:
        validate_mef("<opsa-mef>TOP SECRET</opsa-mef>", schema_path=schema)
    assert "TOP SECRET" not in str(caught.value)
