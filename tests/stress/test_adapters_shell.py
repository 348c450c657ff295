"""The persistent JSONL shell adapter, driven by small Python child processes."""

from __future__ import annotations

import os
import sys
import textwrap
import time

import pytest

from ddrisk.errors import InputError
from ddrisk.stress.adapters import layer_from_spec
from ddrisk.stress.adapters.shell import ShellLayer, describe_exit, from_spec
from ddrisk.stress.layer import Item, Layer, config_hash

CHILD = textwrap.dedent(
    """
    import json, os, sys, time
    if os.environ.get("BANNER"):
        print("guard v1 starting up", flush=True)
    sys.stderr.write("child ready\\n"); sys.stderr.flush()
    for line in sys.stdin:
        request = json.loads(line)
        text = request["text"]
        if text == "CRASH":
            sys.stderr.write("fatal: cannot classify this input\\n"); sys.stderr.flush()
            sys.exit(3)
        if text == "SLOW":
            time.sleep(10)
        if text == "GARBLE":
            print("%% not json %%", flush=True)
            continue
        if text == "ERROR":
            print(json.dumps({"id": request["id"], "error": "model refused"}), flush=True)
            continue
        if text == "BADTYPE":
            print(json.dumps({"id": request["id"], "blocked": "maybe"}), flush=True)
            continue
        if text == "ENV":
            value = os.environ.get("GUARD_MODE", "") + "|" + os.environ.get("GUARD_SECRET", "")
            print(json.dumps({"id": request["id"], "blocked": False, "env": value}), flush=True)
            continue
        answer = {"id": request["id"], "pid": os.getpid(), "role": request["role"]}
        if os.environ.get("SCORE_ONLY"):
            answer["score"] = 0.9 if "bomb" in text else 0.1
        else:
            answer["blocked"] = "bomb" in text
            answer["score"] = 0.9 if "bomb" in text else 0.1
        print(json.dumps(answer), flush=True)
    """
)

REVERSING_CHILD = textwrap.dedent(
    """
    import json, sys
    held = []
    for line in sys.stdin:
        held.append(json.loads(line))
        if len(held) == 2:
            for request in reversed(held):
                print(json.dumps({"id": request["id"], "blocked": request["text"] == "b"}), flush=True)
            held = []
    """
)


@pytest.fixture()
def child(tmp_path):
    path = tmp_path / "guard.py"
    path.write_text(CHILD, encoding="utf-8")
    return path


def _items(*texts: str, role: str = "user") -> list[Item]:
    return [Item(f"i{n}", text, role=role) for n, text in enumerate(texts)]


def _layer(child_path, **kwargs) -> ShellLayer:
    kwargs.setdefault("timeout_s", 5.0)
    kwargs.setdefault("startup_timeout_s", 10.0)
    return ShellLayer(name="sh", command=[sys.executable, str(child_path)], **kwargs)


def _gone(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return True
    # a zombie (exited, not yet reaped) still answers kill(0); /proc says so where it exists
    if not os.path.exists(f"/proc/{pid}/status"):
        return False
    with open(f"/proc/{pid}/status") as status:
        return any(line.startswith("State:\tZ") for line in status)


def test_one_process_serves_every_item_across_calls(child):
    layer = _layer(child)
    assert isinstance(layer, Layer) and layer.unavailable_reason() is None
    texts = [f"text {n} bomb" if n % 3 == 0 else f"text {n}" for n in range(30)]
    first = layer.check(_items(*texts))
    second = layer.check(_items("bomb", "cake", role="assistant"))
    layer.close()
    assert [v.blocked for v in first] == ["bomb" in t for t in texts]
    assert [v.score for v in first[:2]] == [0.9, 0.1]
    pids = {v.detail["extra"]["pid"] for v in first + second}
    assert len(pids) == 1 and layer.pids == list(pids)
    assert [v.detail["extra"]["role"] for v in second] == ["assistant", "assistant"]
    assert all(v.detail["pid"] == layer.pids[0] for v in first)
    assert _gone(layer.pids[0])


def test_pipelined_requests_are_matched_by_id_even_out_of_order(tmp_path):
    path = tmp_path / "reverse.py"
    path.write_text(REVERSING_CHILD, encoding="utf-8")
    layer = _layer(path, max_in_flight=4)
    verdicts = layer.check(_items("a", "b", "c", "b", "b", "d"))
    layer.close()
    assert [v.blocked for v in verdicts] == [False, True, False, True, True, False]
    assert len(layer.pids) == 1


def test_score_without_blocked_uses_the_layer_threshold(child):
    layer = _layer(child, env={"SCORE_ONLY": "1"}, threshold=0.5)
    verdicts = layer.check(_items("bomb", "cake"))
    layer.close()
    assert [(v.blocked, v.score) for v in verdicts] == [(True, 0.9), (False, 0.1)]
    no_threshold = _layer(child, env={"SCORE_ONLY": "1"})
    verdict = no_threshold.check(_items("bomb"))[0]
    no_threshold.close()
    assert verdict.blocked is None and "no 'blocked'" in verdict.error


def test_error_answers_and_bad_fields_are_errors_not_verdicts(child):
    layer = _layer(child)
    verdicts = layer.check(_items("ERROR", "BADTYPE", "fine"))
    layer.close()
    assert verdicts[0].blocked is None and verdicts[0].error == "the layer reported: model refused"
    assert verdicts[1].blocked is None and "'blocked' must be true or false" in verdicts[1].error
    assert verdicts[2].blocked is False
    assert len(layer.pids) == 1


def test_slow_item_times_out_and_a_fresh_process_finishes_the_run(child):
    layer = _layer(child, timeout_s=0.4, startup_timeout_s=5.0, restart="on-failure")
    started = time.monotonic()
    verdicts = layer.check(_items("one", "SLOW", "bomb", "two"))
    elapsed = time.monotonic() - started
    layer.close()
    assert [v.blocked for v in verdicts] == [False, None, True, False]
    assert verdicts[1].error.startswith("timed out: no answer within 0.4 s")
    assert 400 <= verdicts[1].latency_ms < 3000
    assert elapsed < 8
    assert len(layer.pids) == 2 and layer.restarts == 1
    assert verdicts[2].detail["pid"] == layer.pids[1]
    assert _gone(layer.pids[0]) and _gone(layer.pids[1])


def test_crash_mid_run_without_restart_errors_the_rest_with_exit_code_and_stderr(child):
    layer = _layer(child)  # restart: never is the default
    verdicts = layer.check(_items("a", "bomb", "CRASH", "b", "c"))
    later = layer.check(_items("d"))
    layer.close()
    assert [v.blocked for v in verdicts[:2]] == [False, True]
    crashed = verdicts[2]
    assert crashed.blocked is None
    assert "exited with code 3 while this item was in flight" in crashed.error
    assert "fatal: cannot classify this input" in crashed.error
    assert crashed.detail["exit_code"] == 3
    for verdict in [*verdicts[3:], *later]:
        assert verdict.blocked is None
        assert verdict.error.startswith("not checked: process")
        assert "exited with code 3" in verdict.error and "restart: never" in verdict.error
    assert len(layer.pids) == 1


def test_crash_with_restart_policy_recovers_until_restarts_run_out(child):
    layer = _layer(child, restart="on-failure", max_restarts=1)
    verdicts = layer.check(_items("a", "CRASH", "bomb", "CRASH", "b"))
    layer.close()
    assert [v.blocked for v in verdicts] == [False, None, True, None, None]
    assert "exited with code 3" in verdicts[1].error and "exited with code 3" in verdicts[3].error
    assert "1 of 1 restarts used" in verdicts[4].error
    assert len(layer.pids) == 2


def test_stray_stdout_lines_are_ignored_but_a_garbled_answer_times_out(child):
    layer = _layer(
        child, env={"BANNER": "1"}, timeout_s=0.4, startup_timeout_s=5.0, restart="on-failure"
    )
    verdicts = layer.check(_items("bomb", "GARBLE", "cake"))
    layer.close()
    assert verdicts[0].blocked is True  # the start-up banner did not disturb the first answer
    assert verdicts[1].blocked is None
    assert "guard v1 starting up" in verdicts[1].error and "%% not json %%" in verdicts[1].error
    assert verdicts[2].blocked is False


def test_child_that_dies_at_start_reports_its_exit_status(tmp_path):
    path = tmp_path / "dies.py"
    path.write_text("import sys\nsys.stderr.write('missing model file\\n')\nsys.exit(7)\n")
    layer = _layer(path, restart="on-failure", max_restarts=2)
    verdicts = layer.check(_items("a", "b", "c", "d"))
    layer.close()
    assert all(v.blocked is None for v in verdicts)
    assert "exited with code 7" in verdicts[0].error and "missing model file" in verdicts[0].error
    assert len(layer.pids) == 3  # first start plus two restarts
    assert "2 of 2 restarts used" in verdicts[3].error


def test_close_stops_a_child_that_ignores_end_of_input(tmp_path):
    path = tmp_path / "stubborn.py"
    path.write_text(
        "import json, sys, time\n"
        "line = sys.stdin.readline()\n"
        "print(json.dumps({'id': json.loads(line)['id'], 'blocked': False}), flush=True)\n"
        "while True:\n    time.sleep(0.05)\n"
    )
    layer = _layer(path, close_timeout_s=0.3)
    assert layer.check(_items("x"))[0].blocked is False
    started = time.monotonic()
    layer.close()
    assert time.monotonic() - started < 4
    assert _gone(layer.pids[0])


def test_environment_settings_reach_the_child_but_secrets_stay_out_of_config(child, monkeypatch):
    monkeypatch.setenv("GUARD_SECRET", "s3cr3t-value")
    layer = _layer(
        child, env={"GUARD_MODE": "strict"}, pass_env=["GUARD_SECRET"], inherit_env=False
    )
    verdict = layer.check(_items("ENV"))[0]
    layer.close()
    assert verdict.detail["extra"]["env"] == "strict|s3cr3t-value"
    config = layer.config()
    assert config["env"] == {"GUARD_MODE": "strict"} and config["pass_env"] == ["GUARD_SECRET"]
    assert "s3cr3t-value" not in repr(config) + repr(layer)


def test_config_hash_changes_when_the_script_changes(child):
    before = config_hash(_layer(child).config())
    child.write_text(CHILD + "\n# edited\n", encoding="utf-8")
    assert config_hash(_layer(child).config()) != before


def test_from_spec_resolves_cwd_relative_to_the_layers_file(tmp_path, child):
    layers_file = tmp_path / "layers.yaml"
    layers_file.write_text("layers: []\n")
    layer = layer_from_spec(
        {"name": "rel", "kind": "shell", "command": f"{sys.executable} guard.py", "timeout_s": 5},
        source=str(layers_file),
    )
    assert isinstance(layer, ShellLayer) and layer.cwd == str(tmp_path)
    assert layer.check(_items("bomb"))[0].blocked is True
    layer.close()


def test_missing_program_is_unavailable_and_checks_error_without_hanging(tmp_path):
    layer = ShellLayer(name="nope", command=["ddrisk-no-such-program-xyz", "--serve"])
    assert layer.unavailable_reason() == "'ddrisk-no-such-program-xyz' is not on PATH"
    verdicts = layer.check(_items("a", "b"))
    assert all(v.blocked is None and "could not start" in v.error for v in verdicts)
    not_executable = tmp_path / "script.sh"
    not_executable.write_text("#!/bin/sh\n")
    assert (
        "not an executable file"
        in ShellLayer(name="x", command=[str(not_executable)]).unavailable_reason()
    )
    missing_secret = ShellLayer(
        name="x", command=[sys.executable], pass_env=["DDRISK_UNSET_VAR_XYZ"]
    )
    assert "DDRISK_UNSET_VAR_XYZ" in missing_secret.unavailable_reason()


@pytest.mark.parametrize(
    ("spec", "where", "fragment"),
    [
        ({"name": "s", "kind": "shell"}, "layer 's'.command", "missing required key 'command'"),
        (
            {"name": "s", "kind": "shell", "command": "  "},
            "layer 's'.command",
            "the command is empty",
        ),
        (
            {"name": "s", "kind": "shell", "command": "x", "restart": "always"},
            "layer 's'.restart",
            "invalid value 'always'",
        ),
        (
            {"name": "s", "kind": "shell", "command": "x", "timeout_s": 0},
            "layer 's'.timeout_s",
            "out of range",
        ),
        (
            {"name": "s", "kind": "shell", "command": "x", "cwd": "no/such/dir"},
            "layer 's'.cwd",
            "does not exist",
        ),
        (
            {"name": "s", "kind": "shell", "command": "x", "pass_env": ["BAD-NAME"]},
            "layer 's'.pass_env",
            "not environment variable names",
        ),
        (
            {"name": "s", "kind": "shell", "command": "x", "stdin": "y"},
            "layer 's'.stdin",
            "unknown key 'stdin'",
        ),
    ],
)
def test_bad_shell_specs_raise_located_input_errors(spec, where, fragment):
    with pytest.raises(InputError) as caught:
        from_spec(spec, source="layers.yaml")
    assert caught.value.where == where
    assert fragment in caught.value.problem


def test_exit_descriptions():
    assert describe_exit(0) == "exited with code 0"
    assert describe_exit(-15) == "was killed by signal 15 (SIGTERM)"
    assert describe_exit(None) == "stopped responding"


def test_timeout_without_restart_errors_the_remaining_items(child):
    layer = _layer(child, timeout_s=0.3)
    verdicts = layer.check(_items("a", "SLOW", "b"))
    layer.close()
    assert [v.blocked for v in verdicts] == [False, None, None]
    assert verdicts[1].error.startswith("timed out")
    assert "was stopped after a timeout (restart: never)" in verdicts[2].error
    assert len(layer.pids) == 1 and _gone(layer.pids[0])


def test_a_closed_layer_starts_afresh_on_the_next_check(child):
    layer = _layer(child)
    assert layer.check(_items("bomb"))[0].blocked is True
    layer.close()
    assert layer.check(_items("cake"))[0].blocked is False
    layer.close()
    assert len(layer.pids) == 2 and layer.restarts == 0
