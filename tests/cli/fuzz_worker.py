"""Run many ddrisk command lines in one process, each under a time limit; print JSON results.

Used by ``tests/cli/test_fuzz_inputs.py``, which starts this module in a subprocess with an
address-space limit (``RLIMIT_AS``), so a memory blow-up on any input fails that process
instead of the machine. Each case runs through click's ``CliRunner`` (the real command group,
with its one-line error handling); importing ddrisk once keeps hundreds of cases fast.

Usage: ``python tests/cli/fuzz_worker.py CASES.json`` where each case is
``{"name": ..., "args": [...], "env": {...}}``; prints one JSON list of results.
"""

from __future__ import annotations

import json
import resource
import signal
import sys
import time
import traceback
from typing import Any

CASE_SECONDS = 20


class CaseTimeout(Exception):
    """A case ran past :data:`CASE_SECONDS`."""


def _alarm(signum: int, frame: Any) -> None:
    raise CaseTimeout()


def run_cases(cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    from click.testing import CliRunner

    from ddrisk.cli import main

    signal.signal(signal.SIGALRM, _alarm)
    results = []
    for case in cases:
        runner = CliRunner()
        started = time.perf_counter()
        signal.alarm(CASE_SECONDS)
        try:
            result = runner.invoke(main, case["args"], env=case.get("env") or {})
            outcome = {
                "exit_code": result.exit_code,
                "stderr": result.stderr,
                "stdout_tail": result.stdout[-300:],
                "exception": None
                if result.exception is None or isinstance(result.exception, SystemExit)
                else "".join(traceback.format_exception(result.exception))[-2000:],
            }
        except CaseTimeout:
            outcome = {"exit_code": None, "stderr": "", "stdout_tail": "", "exception": "timeout"}
        finally:
            signal.alarm(0)
        outcome["name"] = case["name"]
        outcome["seconds"] = round(time.perf_counter() - started, 3)
        results.append(outcome)
    return results


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as handle:
        loaded = json.load(handle)
    output = run_cases(loaded)
    peak_kib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"results": output, "peak_rss_kib": peak_kib}))
