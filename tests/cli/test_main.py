"""The command group itself: lazy loading, one-line usage errors, version, start-up imports."""

from __future__ import annotations

import subprocess
import sys

from click.testing import CliRunner

from ddrisk.__version__ import __version__
from ddrisk.cli import COMMANDS, main


def test_every_listed_command_loads_and_has_help():
    runner = CliRunner()
    for name in COMMANDS:
        result = runner.invoke(main, [name, "--help"])
        assert result.exit_code == 0, (name, result.output)
        assert "Usage:" in result.output


def test_usage_errors_are_one_line_with_a_fix():
    result = CliRunner().invoke(main, ["show", "--formt", "x"], prog_name="ddrisk")
    assert result.exit_code == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1
    assert lines[0].startswith("ddrisk: error: ddrisk show: No such option '--formt'")
    assert "fix: see 'ddrisk show --help'" in lines[0]
    unknown = CliRunner().invoke(main, ["shwo"], prog_name="ddrisk")
    assert unknown.exit_code == 2 and unknown.stderr.count("\n") == 1
    assert "No such command 'shwo'" in unknown.stderr


def test_out_of_range_option_is_a_usage_error():
    result = CliRunner().invoke(main, ["analyze", "--group-threshold", "2"])
    assert result.exit_code == 2
    assert "--group-threshold" in result.stderr and "Traceback" not in result.output


def test_version_and_help_import_no_heavy_module():
    code = (
        "import sys\n"
        "from ddrisk.cli import main\n"
        "try:\n"
        "    main(['--help'])\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = [m for m in ('numpy', 'pandas', 'scipy', 'matplotlib', 'pydantic') if m in sys.modules]\n"
        "print(','.join(heavy), file=sys.stderr)\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stderr.strip() == ""
    version = CliRunner().invoke(main, ["--version"])
    assert version.exit_code == 0 and __version__ in version.output
