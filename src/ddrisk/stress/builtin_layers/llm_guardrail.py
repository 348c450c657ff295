"""Third-party model through the shell adapter: npm ``llm_guardrail`` run with node.

Mechanism: three TF-IDF + logistic-regression models (prompt injection,
jailbreak, malicious) shipped as JSON in the npm package and evaluated in node.
ddrisk talks to them through its generic persistent-process adapter
(:class:`ddrisk.stress.adapters.shell.ShellLayer`) and a small bridge script,
``ddrisk/stress/js/llm_guardrail_runner.js``, that speaks JSONL on stdin/stdout.
An item is blocked when any selected model flags it; the score is the largest
threat probability.

Installation happens once, at set-up time, never during a run::

    npm install --prefix ~/.cache/ddrisk/node llm_guardrail@2.1.2
    # or: ddrisk stress setup

The layer looks for the package in ``$DDRISK_NODE_PREFIX/node_modules`` when that
variable is set, else in ``$XDG_CACHE_HOME/ddrisk/node/node_modules`` (default
``~/.cache/ddrisk/node/node_modules``). Without ``node`` or the package the layer
is reported unavailable with the line above.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Sequence
from importlib import resources
from pathlib import Path
from typing import Any, ClassVar

from ddrisk._hashing import file_sha256
from ddrisk.stress.builtin_layers._base import BuiltinLayer
from ddrisk.stress.layer import Item, Verdict

LLM_GUARDRAIL_VERSION = "2.1.2"
MODELS = ("injection", "jailbreak", "malicious")


def node_prefix() -> Path:
    """Folder whose ``node_modules`` holds llm_guardrail (see the module docstring)."""
    explicit = os.environ.get("DDRISK_NODE_PREFIX")
    if explicit:
        return Path(explicit).expanduser()
    cache_home = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(cache_home) / "ddrisk" / "node"


def npm_install_command(prefix: Path | None = None) -> list[str]:
    """The set-up command that installs the npm package (run by ``ddrisk stress setup``)."""
    return [
        "npm",
        "install",
        "--no-audit",
        "--no-fund",
        "--prefix",
        str(prefix or node_prefix()),
        f"llm_guardrail@{LLM_GUARDRAIL_VERSION}",
    ]


def install_hint() -> str:
    return f"npm install --prefix {node_prefix()} llm_guardrail@{LLM_GUARDRAIL_VERSION} (or: ddrisk stress setup)"


def runner_script() -> Path:
    """Path of the JSONL bridge shipped with ddrisk."""
    return Path(str(resources.files("ddrisk.stress") / "js" / "llm_guardrail_runner.js"))


class LLMGuardrailLayer(BuiltinLayer):
    """npm llm_guardrail models evaluated by node behind the generic shell adapter."""

    kind: ClassVar[str] = "llm_guardrail"
    description = "npm llm_guardrail TF-IDF + logistic regression (node, via the shell adapter)"

    def __init__(
        self,
        *,
        name: str | None = None,
        models: str = "injection,jailbreak,malicious",
        timeout_s: float = 30.0,
    ) -> None:
        super().__init__(name=name)
        chosen = [m.strip() for m in models.split(",") if m.strip()]
        if not chosen or any(m not in MODELS for m in chosen):
            raise ValueError(f"models must be a comma-separated subset of {', '.join(MODELS)}")
        if timeout_s <= 0:
            raise ValueError("timeout_s must be positive")
        self.models = tuple(chosen)
        self.timeout_s = timeout_s
        self._shell: Any = None

    @property
    def package_dir(self) -> Path:
        return node_prefix() / "node_modules" / "llm_guardrail"

    def _package_version(self) -> str | None:
        try:
            return str(json.loads((self.package_dir / "package.json").read_text())["version"])
        except (OSError, ValueError, KeyError):
            return None

    def config(self) -> dict[str, Any]:
        script = runner_script()
        return {
            "kind": self.kind,
            "package": "npm:llm_guardrail",
            "llm_guardrail": self._package_version(),
            "models": list(self.models),
            "rule": "blocked if any selected model flags the text; score = max threat probability",
            "runner_sha256": file_sha256(script)[:16] if script.is_file() else None,
        }

    def versions(self) -> dict[str, str | None]:
        return {"npm:llm_guardrail": self._package_version()}

    def unavailable_reason(self) -> str | None:
        if shutil.which("node") is None:
            return (
                "'node' is not on PATH; install Node.js 18 or later (e.g. apt-get install nodejs)"
            )
        if not (self.package_dir / "index.js").is_file():
            return f"npm package llm_guardrail not found in {self.package_dir.parent}; install it with: {install_hint()}"
        try:
            from ddrisk.stress.adapters.shell import ShellLayer  # noqa: F401
        except ImportError as error:
            return f"the shell adapter is missing from this ddrisk install ({error})"
        return None

    def _get_shell(self) -> Any:
        if self._shell is None:
            from ddrisk.stress.adapters.shell import ShellLayer

            self._shell = ShellLayer(
                name=self.name,
                command=[
                    "node",
                    str(runner_script()),
                    str(self.package_dir),
                    ",".join(self.models),
                ],
                timeout_s=self.timeout_s,
                startup_timeout_s=60.0,
                restart="on-failure",
                max_restarts=2,
                max_in_flight=64,
            )
        return self._shell

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        return self._get_shell().check(items)

    def close(self) -> None:
        if self._shell is not None:
            self._shell.close()
            self._shell = None
