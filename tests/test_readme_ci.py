"""The README's set-up commands and CI's script must not drift apart."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def _readme_commands() -> list[str]:
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    section = text.split("## Set-up: two commands", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```bash\n(.+?)\n```", section)


def test_readme_has_two_setup_commands():
    commands = _readme_commands()
    assert len(commands) == 2
    assert commands[0].endswith("ddrisk analyze")
    assert "pytest" in commands[1]


def test_ci_runs_the_readme_test_command_verbatim():
    ci = (ROOT / ".ci" / "run").read_text(encoding="utf-8").splitlines()
    assert _readme_commands()[1] in ci


def test_readme_python_example_runs_and_its_comments_hold():
    text = (ROOT / "README.md").read_text(encoding="utf-8")
    block = re.search(r"## Python API\n\n```python\n(.+?)\n```", text, re.S).group(1)
    namespace: dict[str, object] = {}
    exec(compile(block, "README.md", "exec"), namespace)
    result = namespace["result"]
    assert result.coverage.straight_through == {"pessimistic": ["AL-GEN"], "optimistic": ["AL-GEN"]}
    from ddrisk.risk.engine import compute_stack_failure

    probability = compute_stack_failure(namespace["model"]).probability
    assert f"{probability:.11f}".startswith("0.18635826814")
