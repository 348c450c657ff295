"""Output paths are checked before any computation: one line naming the option and the fix."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.errors import InputError
from ddrisk.io.paths import FIGURE_SUFFIXES, check_output_folder, check_output_path


def test_good_paths_pass(tmp_path: Path) -> None:
    assert check_output_path(tmp_path / "f.PNG", option="--figure", suffixes=FIGURE_SUFFIXES)
    assert check_output_folder(tmp_path / "new" / "figs", option="--figures").is_dir()


@pytest.mark.parametrize(
    ("relative", "problem"),
    [
        ("no/such/f.png", "folder '.*no/such' does not exist"),
        ("f.gif", r"unsupported file type \(.gif\)"),
        ("f", r"unsupported file type \(no extension\)"),
        ("x" * 300 + ".png", "longer than the 255-byte limit"),
    ],
)
def test_bad_figure_paths(tmp_path: Path, relative: str, problem: str) -> None:
    with pytest.raises(InputError, match=problem) as caught:
        check_output_path(tmp_path / relative, option="--figure", suffixes=FIGURE_SUFFIXES)
    assert caught.value.where == "--figure" and "fix:" in str(caught.value)


def test_folder_and_file_confusions(tmp_path: Path) -> None:
    (tmp_path / "d.png").mkdir()
    with pytest.raises(InputError, match="is a folder"):
        check_output_path(tmp_path / "d.png", option="-o")
    (tmp_path / "plain").write_text("x")
    with pytest.raises(InputError, match="is not a folder"):
        check_output_path(tmp_path / "plain" / "f.png", option="-o")
    with pytest.raises(InputError, match="is a file, not a folder"):
        check_output_folder(tmp_path / "plain", option="--figures")


@pytest.mark.skipif(hasattr(os, "geteuid") and os.geteuid() == 0, reason="root writes anywhere")
def test_read_only_folder(tmp_path: Path) -> None:
    locked = tmp_path / "locked"
    locked.mkdir()
    locked.chmod(0o500)
    try:
        with pytest.raises(InputError, match="permission denied"):
            check_output_path(locked / "f.png", option="--figure")
    finally:
        locked.chmod(0o700)


def test_risk_checks_the_figure_before_computing(tmp_path: Path) -> None:
    target = tmp_path / "missing" / "curve.png"
    result = CliRunner().invoke(main, ["risk", "--stack", "RLHF,RE", "--figure", str(target)])
    assert result.exit_code == 2 and result.stdout == ""
    assert result.stderr.strip() == (
        f"ddrisk: error: {target}: --figure: folder '{target.parent}' does not exist; "
        "fix: create it first or give --figure a path in an existing folder"
    )
    result = CliRunner().invoke(
        main, ["risk", "--paper-example", "--figure", str(tmp_path / "c.gif")]
    )
    assert result.exit_code == 2 and "unsupported file type (.gif)" in result.stderr


def test_export_checks_its_output_first(tmp_path: Path) -> None:
    target = tmp_path / "nowhere" / "tree.xml"
    result = CliRunner().invoke(main, ["export", "mef", "--stack", "RLHF", "-o", str(target)])
    assert result.exit_code == 2 and "--output: folder" in result.stderr


@pytest.mark.parametrize(
    ("args", "fragment"),
    [
        (["analyze", "-o", "{missing}/a.json"], "--output: folder"),
        (["schema", "-o", "{missing}/s.json"], "--output: folder"),
        (["crosswalk", "-o", "{tmp}"], "is a directory"),
        (["report", "-o", "{log}/r.html"], "is not a folder"),
        (["report", "-o", "{tmp}/" + "r" * 300 + ".html"], "longer than the"),
        (["stress", "analyze", "{log}", "--catalog-out", "{tmp}/c.txt"], "unsupported file type"),
        (
            ["stress", "analyze", "{log}", "--counts-out", "{missing}/c.json"],
            "--counts-out: folder",
        ),
        (["stress", "analyze", "{log}", "--figures", "{log}"], "is a file"),
    ],
)
def test_every_output_option_is_checked_first(
    tmp_path: Path, args: list[str], fragment: str
) -> None:
    log = Path(__file__).parents[1] / "fixtures" / "stress" / "promptfoo_small.json"
    values = {"missing": str(tmp_path / "missing"), "tmp": str(tmp_path), "log": str(log)}
    result = CliRunner().invoke(main, [arg.format(**values) for arg in args])
    assert result.exit_code == 2, result.output
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and fragment in lines[0] and "Traceback" not in result.output
