"""A safety layer that is another program, kept running for the whole run and spoken to in JSONL.

Protocol (one JSON object per line, UTF-8):

* request, on the child's stdin: ``{"id": "17", "text": "...", "role": "user"}``;
* response, on its stdout: ``{"id": "17", "blocked": true, "score": 0.93}`` (``score``
  optional; ``blocked`` may be left out when ``score`` is given and the layer has a
  ``threshold``) or ``{"id": "17", "error": "why"}``. Other keys are kept in the
  verdict detail. Responses are matched by ``id`` (an opaque string to echo), so a
  child may answer out of order.

One process serves every item: starting a model per item is what makes this slow.
Lines on stdout that are not JSON objects with a pending ``id`` (a start-up banner,
a garbled answer) are counted and quoted in errors but otherwise ignored. Failures:

* **timeout**: an item whose answer does not arrive within ``timeout_s`` of the
  child becoming free for it is an error; the child is then stopped (its state is
  unknown) and the other pending items are sent again to a fresh one;
* **exit or crash** (any exit before ``close``): the items in flight become errors
  that quote the exit code and the tail of stderr, because any of them may have
  caused it;
* after either, with ``restart: never`` (default) every remaining item is an error
  that names the failure (exit code, stderr tail); ``restart: on-failure`` starts a
  new process instead, at most ``max_restarts`` times per layer, after which the
  remaining items are errors too.

``close()`` closes the child's stdin (its cue to exit), waits ``close_timeout_s``,
then terminates and finally kills it.

Why one module: the protocol, the child-process lifecycle (start, timeouts, restarts, close)
and the reading of its output are one state machine; pieces of it in separate modules would have
to share its private state.
"""

from __future__ import annotations

import contextlib
import itertools
import json
import os
import queue
import re
import shlex
import shutil
import signal
import subprocess
import threading
import time
from collections import OrderedDict, deque
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from pydantic import Field, field_validator

from ddrisk.errors import InputError
from ddrisk.stress.adapters._common import (
    ENV_NAME_PATTERN,
    LayerSpecBase,
    base_dir,
    data_file_digests,
    error_verdict,
    excerpt,
    finite_score,
    resolve_data_files,
    small_file_sha256,
    validate_spec,
)
from ddrisk.stress.layer import Item, Verdict

_STDERR_TAIL_BYTES = 2000
_STRAY_KEPT = 3
_MAX_EXTRA_CHARS = 1000


class ShellSpec(LayerSpecBase):
    """Layers-file entry for ``kind: shell``."""

    kind: Literal["shell"]
    command: str | list[str]
    cwd: str | None = None
    env: dict[str, str] = Field(default_factory=dict)
    pass_env: list[str] = Field(default_factory=list)
    inherit_env: bool = True
    timeout_s: float = Field(default=30.0, gt=0, le=3600)
    startup_timeout_s: float = Field(default=30.0, ge=0, le=3600)
    restart: Literal["never", "on-failure"] = "never"
    max_restarts: int = Field(default=3, ge=0, le=1000)
    max_in_flight: int = Field(default=1, ge=1, le=4096)
    threshold: float | None = None
    close_timeout_s: float = Field(default=5.0, gt=0, le=600)

    @field_validator("command")
    @classmethod
    def _non_empty(cls, value: str | list[str]) -> str | list[str]:
        if not (shlex.split(value) if isinstance(value, str) else value):
            raise ValueError("the command is empty")
        return value

    @field_validator("pass_env")
    @classmethod
    def _env_names(cls, value: list[str]) -> list[str]:
        bad = [name for name in value if not re.match(ENV_NAME_PATTERN, name)]
        if bad:
            raise ValueError(f"not environment variable names: {bad}")
        return value


def describe_exit(returncode: int | None) -> str:
    """Human wording of a process exit status.

    >>> describe_exit(3), describe_exit(-9)
    ('exited with code 3', 'was killed by signal 9 (SIGKILL)')
    """
    if returncode is None:
        return "stopped responding"
    if returncode < 0:
        try:
            label = signal.Signals(-returncode).name
        except ValueError:
            label = "unknown"
        return f"was killed by signal {-returncode} ({label})"
    return f"exited with code {returncode}"


class _Child:
    """One running child process with reader/writer threads around its pipes."""

    def __init__(self, argv: list[str], *, cwd: str | None, env: dict[str, str] | None) -> None:
        self.process = subprocess.Popen(
            argv,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            cwd=cwd,
            env=env,
            bufsize=-1,
        )
        self.pid = self.process.pid
        self.answered = False  # the first answer may take startup_timeout_s longer
        self.events: queue.Queue[tuple[str, str | None]] = queue.Queue()
        self._outbox: queue.Queue[bytes | None] = queue.Queue()
        self._stderr_tail: deque[bytes] = deque()
        self._stderr_size = 0
        self._stderr_lock = threading.Lock()
        self._threads = [
            threading.Thread(
                target=self._read_stdout, daemon=True, name=f"ddrisk-stdout-{self.pid}"
            ),
            threading.Thread(
                target=self._read_stderr, daemon=True, name=f"ddrisk-stderr-{self.pid}"
            ),
            threading.Thread(
                target=self._write_stdin, daemon=True, name=f"ddrisk-stdin-{self.pid}"
            ),
        ]
        for thread in self._threads:
            thread.start()

    # The writer thread keeps the caller from blocking on a full pipe when the child stalls.
    def _write_stdin(self) -> None:
        stdin = self.process.stdin
        assert stdin is not None
        while True:
            data = self._outbox.get()
            if data is None:
                break
            try:
                stdin.write(data)
                stdin.flush()
            except (BrokenPipeError, OSError, ValueError):
                break
        with contextlib.suppress(OSError, ValueError):
            stdin.close()

    def _read_stdout(self) -> None:
        stdout = self.process.stdout
        assert stdout is not None
        for raw in iter(stdout.readline, b""):
            self.events.put(("line", raw.decode("utf-8", errors="replace")))
        self.events.put(("eof", None))

    def _read_stderr(self) -> None:
        stderr = self.process.stderr
        assert stderr is not None
        for chunk in iter(lambda: stderr.read1(4096), b""):  # type: ignore[attr-defined]
            with self._stderr_lock:
                self._stderr_tail.append(chunk)
                self._stderr_size += len(chunk)
                while self._stderr_size - len(self._stderr_tail[0]) >= _STDERR_TAIL_BYTES:
                    self._stderr_size -= len(self._stderr_tail.popleft())

    def drain_stderr(self, *, timeout: float) -> None:
        """Wait (bounded) until stderr is read to its end, so error messages quote all of it."""
        self._threads[1].join(timeout=timeout)

    def send(self, request: Mapping[str, Any]) -> None:
        self._outbox.put((json.dumps(request) + "\n").encode("utf-8"))

    def stderr_tail(self) -> str:
        with self._stderr_lock:
            data = b"".join(self._stderr_tail)[-_STDERR_TAIL_BYTES:]
        return data.decode("utf-8", errors="replace").strip()

    def wait_exit(self, timeout: float) -> int | None:
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            return None

    def stop(self, *, grace_s: float) -> int | None:
        """Close stdin, wait ``grace_s``, then terminate, then kill; return the exit status."""
        self._outbox.put(None)
        code = self.wait_exit(grace_s)
        if code is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.terminate()
            code = self.wait_exit(2.0)
        if code is None:
            with contextlib.suppress(ProcessLookupError):
                self.process.kill()
            code = self.wait_exit(5.0)
        for thread in self._threads:
            thread.join(timeout=1.0)
        for stream in (self.process.stdout, self.process.stderr):
            if stream is not None:
                with contextlib.suppress(OSError):
                    stream.close()
        return code

    def kill(self) -> int | None:
        with contextlib.suppress(ProcessLookupError):
            self.process.kill()
        return self.stop(grace_s=0.0)


@dataclass
class _Pending:
    index: int
    sent_at: float
    clock_from: float


class ShellLayer:
    """Run a long-lived command that answers JSONL requests as a safety layer.

    Parameters
    ----------
    name
        Unique layer name within a run.
    command
        Program and arguments (a string is split like a shell would, without a shell).
    cwd, env, pass_env, inherit_env
        Working folder; extra environment variables (recorded in :meth:`config`);
        names of variables copied from ddrisk's own environment (values not
        recorded, for secrets); whether the child starts from ddrisk's environment.
    timeout_s
        Longest wait for one answer once the child is free to work on it.
    startup_timeout_s
        Extra time allowed for the first answer after a (re)start (model loading).
    restart, max_restarts
        Whether a failed child is replaced, and how many times at most.
    max_in_flight
        Requests written before waiting for answers; 1 is strict request/response.
    threshold
        Used when a response gives ``score`` without ``blocked``.
    close_timeout_s
        Time the child gets to exit after its stdin closes.
    version
        Free text added to :meth:`config`.
    """

    def __init__(
        self,
        *,
        name: str,
        command: str | Sequence[str],
        cwd: str | Path | None = None,
        env: Mapping[str, str] | None = None,
        pass_env: Sequence[str] = (),
        inherit_env: bool = True,
        timeout_s: float = 30.0,
        startup_timeout_s: float = 30.0,
        restart: Literal["never", "on-failure"] = "never",
        max_restarts: int = 3,
        max_in_flight: int = 1,
        threshold: float | None = None,
        close_timeout_s: float = 5.0,
        version: str | None = None,
        data_files: Sequence[Path] = (),
    ) -> None:
        self.name = name
        self.argv = shlex.split(command) if isinstance(command, str) else list(command)
        if not self.argv:
            raise ValueError("command is empty")
        self.cwd = str(cwd) if cwd is not None else None
        self.env = dict(env or {})
        self.pass_env = list(pass_env)
        self.inherit_env = inherit_env
        self.timeout_s = float(timeout_s)
        self.startup_timeout_s = float(startup_timeout_s)
        self.restart = restart
        self.max_restarts = int(max_restarts)
        self.max_in_flight = int(max_in_flight)
        self.threshold = threshold
        self.close_timeout_s = float(close_timeout_s)
        self.version = version
        self.data_files = tuple(Path(p) for p in data_files)
        self.restarts = 0
        self.pids: list[int] = []
        self._child: _Child | None = None
        self._dead_reason: str | None = None
        self._start_error: str | None = None
        self._failed = False
        self._ids = itertools.count(1)
        self._lock = threading.Lock()

    # ------------------------------------------------------------------ Layer protocol
    def config(self) -> dict[str, Any]:
        folder = Path(self.cwd) if self.cwd else Path.cwd()
        script_hashes = {}
        for arg in self.argv[1:]:
            digest = small_file_sha256(folder / arg) if not arg.startswith("-") else None
            if digest:
                script_hashes[arg] = digest
        return {
            "kind": "shell",
            "command": self.argv,
            "env": self.env,
            "pass_env": sorted(self.pass_env),
            "threshold": self.threshold,
            "file_sha256": script_hashes,
            "version": self.version,
            "data_files": data_file_digests(self.data_files),
        }

    def secrets(self) -> list[str]:
        """Values of the ``pass_env`` variables: passed to the child, never stored."""
        return [os.environ[name] for name in self.pass_env if os.environ.get(name)]

    def unavailable_reason(self) -> str | None:
        program = self.argv[0]
        if self.cwd and not Path(self.cwd).is_dir():
            return f"working folder '{self.cwd}' does not exist"
        if os.sep in program or (os.altsep and os.altsep in program):
            path = Path(program) if Path(program).is_absolute() else Path(self.cwd or ".") / program
            if not (path.is_file() and os.access(path, os.X_OK)):
                return f"'{program}' is not an executable file"
        elif shutil.which(program, path=self._child_env().get("PATH")) is None:
            return f"'{program}' is not on PATH"
        missing = [name for name in self.pass_env if name not in os.environ]
        if missing:
            return f"environment variable(s) {', '.join(missing)} not set"
        return None

    def check(self, items: Sequence[Item]) -> list[Verdict]:
        with self._lock:
            return self._check_locked(items)

    def close(self) -> None:
        with self._lock:
            if self._child is not None:
                self._child.stop(grace_s=self.close_timeout_s)
                self._child = None

    def __enter__(self) -> ShellLayer:
        return self

    def __exit__(self, *exc_info: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"ShellLayer(name={self.name!r}, command={self.argv!r}, restart={self.restart!r})"

    # ------------------------------------------------------------------ process management
    def _child_env(self) -> dict[str, str]:
        env = dict(os.environ) if self.inherit_env else {}
        if not self.inherit_env and "PATH" in os.environ:
            env["PATH"] = os.environ["PATH"]
        env.update({name: os.environ[name] for name in self.pass_env if name in os.environ})
        env.update(self.env)
        return env

    def _ensure_child(self) -> _Child | None:
        """The running child, starting or restarting one if the policy allows; else None."""
        if self._child is not None:
            return self._child
        if self._start_error:
            return None
        if self._failed:  # the last child timed out or exited on its own
            if self.restart == "never" or self.restarts >= self.max_restarts:
                return None
            self.restarts += 1
            self._failed = False
        try:
            self._child = _Child(self.argv, cwd=self.cwd, env=self._child_env())
        except OSError as exc:
            self._start_error = f"could not start {self.argv[0]!r}: {exc}"
            self._dead_reason = self._start_error
            return None
        self.pids.append(self._child.pid)
        self._dead_reason = None
        return self._child

    @staticmethod
    def _stderr_note(child: _Child) -> str:
        tail = child.stderr_tail()
        return f"; stderr: {excerpt(tail, 500)}" if tail else ""

    # ------------------------------------------------------------------ the request loop
    def _check_locked(self, items: Sequence[Item]) -> list[Verdict]:
        results: list[Verdict | None] = [None] * len(items)
        unsent: deque[int] = deque(range(len(items)))
        in_flight: OrderedDict[str, _Pending] = OrderedDict()
        stray: list[str] = []

        while unsent or in_flight:
            child = self._ensure_child()
            if child is None:
                self._fail_unsent(results, unsent)
                break
            while unsent and len(in_flight) < self.max_in_flight:
                index = unsent.popleft()
                request_id = str(next(self._ids))
                item = items[index]
                child.send({"id": request_id, "text": item.text, "role": item.role})
                now = time.monotonic()
                in_flight[request_id] = _Pending(index, now, now)
            oldest_id, oldest = next(iter(in_flight.items()))
            allowance = self.timeout_s + (0.0 if child.answered else self.startup_timeout_s)
            wait = oldest.clock_from + allowance - time.monotonic()
            try:
                kind, line = child.events.get(timeout=max(wait, 0.0))
            except queue.Empty:
                self._on_timeout(child, results, unsent, in_flight, allowance, stray)
                continue
            if kind == "eof":
                self._on_exit(child, results, in_flight)
                continue
            assert line is not None
            parsed = _parse_line(line)
            answer_id = parsed.get("id") if isinstance(parsed, dict) else None
            pending = in_flight.pop(str(answer_id), None) if answer_id is not None else None
            if pending is None:
                if len(stray) < _STRAY_KEPT:
                    stray.append(excerpt(line.strip(), 120))
                continue
            child.answered = True
            now = time.monotonic()
            if str(answer_id) == oldest_id and in_flight:
                head = next(iter(in_flight.values()))
                head.clock_from = max(head.sent_at, now)
            assert isinstance(parsed, dict)
            results[pending.index] = self._verdict(
                parsed, latency_ms=(now - pending.sent_at) * 1e3, pid=child.pid
            )
        return [
            verdict if verdict is not None else error_verdict("internal: item left unanswered")
            for verdict in results
        ]

    def _fail_unsent(self, results: list[Verdict | None], unsent: deque[int]) -> None:
        reason = self._dead_reason or "process is not running"
        if self._start_error:
            policy = "cannot start"
        elif self.restart == "never":
            policy = "restart: never"
        else:
            policy = f"{self.restarts} of {self.max_restarts} restarts used"
        for index in unsent:
            results[index] = error_verdict(f"not checked: {reason} ({policy})")
        unsent.clear()

    def _on_timeout(
        self,
        child: _Child,
        results: list[Verdict | None],
        unsent: deque[int],
        in_flight: OrderedDict[str, _Pending],
        allowance: float,
        stray: list[str],
    ) -> None:
        """The oldest item timed out: it errors, the child is stopped, the rest go again."""
        _, oldest = in_flight.popitem(last=False)
        note = f"; ignored stdout lines: {stray}" if stray else ""
        results[oldest.index] = error_verdict(
            f"timed out: no answer within {allowance:g} s{note}; process {child.pid} stopped",
            latency_ms=(time.monotonic() - oldest.sent_at) * 1e3,
            pid=child.pid,
        )
        child.kill()
        self._child = None
        self._dead_reason = f"process {child.pid} was stopped after a timeout"
        self._failed = True
        unsent.extendleft(reversed([pending.index for pending in in_flight.values()]))
        in_flight.clear()

    def _on_exit(
        self, child: _Child, results: list[Verdict | None], in_flight: OrderedDict[str, _Pending]
    ) -> None:
        """The child closed stdout: every item in flight errors with its exit status."""
        code = child.wait_exit(self.close_timeout_s)
        if code is None:
            code = child.kill()
        child.drain_stderr(timeout=1.0)
        what = f"process {child.pid} {describe_exit(code)}"
        stderr_note = self._stderr_note(child)
        now = time.monotonic()
        for pending in in_flight.values():
            results[pending.index] = error_verdict(
                f"{what} while this item was in flight{stderr_note}",
                latency_ms=(now - pending.sent_at) * 1e3,
                pid=child.pid,
                exit_code=code,
            )
        in_flight.clear()
        child.stop(grace_s=0.0)
        self._child = None
        self._dead_reason = what + stderr_note
        self._failed = True

    def _verdict(self, response: dict[str, Any], *, latency_ms: float, pid: int) -> Verdict:
        detail: dict[str, Any] = {"pid": pid, "restarts": self.restarts}
        extra = {k: v for k, v in response.items() if k not in {"id", "blocked", "score", "error"}}
        if extra:
            text = json.dumps(extra, ensure_ascii=False)
            detail["extra"] = (
                extra if len(text) <= _MAX_EXTRA_CHARS else excerpt(text, _MAX_EXTRA_CHARS)
            )
        if response.get("error") is not None:
            message = f"the layer reported: {excerpt(str(response['error']), 300)}"
            return error_verdict(message, latency_ms=latency_ms, **detail)
        raw_score = response.get("score")
        score = finite_score(raw_score)
        if raw_score is not None and score is None:
            return error_verdict(
                f"bad response: 'score' {excerpt(repr(raw_score), 60)} is not a finite number",
                latency_ms=latency_ms,
                **detail,
            )
        blocked = response.get("blocked")
        if blocked is None:
            if score is None or self.threshold is None:
                return error_verdict(
                    "bad response: no 'blocked' (and no 'score' with a layer threshold)",
                    latency_ms=latency_ms,
                    **detail,
                )
            blocked = score >= self.threshold
        elif not isinstance(blocked, bool):
            return error_verdict(
                f"bad response: 'blocked' must be true or false, got {excerpt(repr(blocked), 60)}",
                latency_ms=latency_ms,
                **detail,
            )
        return Verdict(blocked=blocked, score=score, latency_ms=latency_ms, detail=detail)


def _parse_line(line: str) -> Any:
    try:
        return json.loads(line)
    except ValueError:
        return None


def from_spec(spec: dict[str, Any], *, source: str, where: str | None = None) -> ShellLayer:
    """Build a :class:`ShellLayer` from a layers-file entry.

    ``cwd`` is resolved against the layers file's folder; without it the child
    runs in that folder too, so ``command: node guard.js`` finds a script kept
    beside the layers file.
    """
    parsed = validate_spec(ShellSpec, spec, source=source, where=where)
    prefix = where or f"layer '{parsed.name}'"
    root = base_dir(source)
    cwd = (root / parsed.cwd).resolve() if parsed.cwd else root
    if parsed.cwd and not cwd.is_dir():
        raise InputError(
            source,
            f"{prefix}.cwd",
            f"folder '{parsed.cwd}' does not exist",
            "name an existing folder",
        )
    return ShellLayer(
        name=parsed.name,
        command=parsed.command,
        cwd=cwd,
        env=parsed.env,
        pass_env=parsed.pass_env,
        inherit_env=parsed.inherit_env,
        timeout_s=parsed.timeout_s,
        startup_timeout_s=parsed.startup_timeout_s,
        restart=parsed.restart,
        max_restarts=parsed.max_restarts,
        max_in_flight=parsed.max_in_flight,
        threshold=parsed.threshold,
        close_timeout_s=parsed.close_timeout_s,
        version=parsed.version,
        data_files=resolve_data_files(parsed.data_files, source=source, prefix=prefix, root=root),
    )
