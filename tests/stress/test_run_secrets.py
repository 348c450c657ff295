"""A server that echoes the API key anywhere in its answers leaves no piece of it behind.

The loopback server puts the key at every offset of long error bodies (and of
unreadable answers), around the places where ddrisk cuts server text (300 and
200 characters). After a real ``ddrisk stress run``, no 4-character piece of the
key may appear in any file under the runs folder (run.sqlite and its journal,
results.jsonl, manifest.json, the verdict cache), nor on stdout/stderr or in logs.
"""

from __future__ import annotations

import json
import logging
import threading
from collections.abc import Iterator
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.stress.adapters._common import SECRET_FRAGMENT_CHARS, scrub

KEY = "sk-Qz7XvJ9wKq2PzR8mTb4NcY6hLd3FgW5sHj"
ERROR_OFFSETS = range(0, 330)
ANSWER_OFFSETS = range(150, 230)


def _fragments(secret: str, width: int = 4) -> set[str]:
    return {secret[i : i + width] for i in range(len(secret) - width + 1)}


def _reply(text: str) -> tuple[int, str, str]:
    kind, _, offset = text.partition(":")
    pad = "e" * int(offset or 0)
    if kind == "error":
        body = f"{pad}invalid key {KEY} for this model; key {KEY} rejected " + "t" * 400
        return 400, "text/plain", body
    content = f"{pad}{KEY} is what I saw " + "u" * 300 if kind == "answer" else "VERDICT: BLOCK"
    answer = {"choices": [{"index": 0, "message": {"role": "assistant", "content": content}}]}
    return 200, "application/json", json.dumps(answer)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"

    def log_message(self, *args: Any) -> None:
        pass

    def _send(self, status: int, kind: str, payload: str) -> None:
        data = payload.encode()
        self.send_response(status)
        self.send_header("Content-Type", kind)
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        self.wfile.write(data)

    def do_GET(self) -> None:
        self._send(200, "application/json", json.dumps({"data": [{"id": "m"}]}))

    def do_POST(self) -> None:
        body = json.loads(self.rfile.read(int(self.headers["Content-Length"])))
        prompt = body["messages"][-1]["content"]
        text = prompt.split("<text>\n", 1)[1].split("\n</text>", 1)[0]
        self._send(*_reply(text))


@pytest.fixture
def echo_server() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}/v1"
    finally:
        server.shutdown()
        server.server_close()


def test_scrub_hides_the_key_at_every_offset_and_cut() -> None:
    for offset in range(0, 80):
        for limit in range(1, 120):
            text = "x" * offset + KEY + "y" * 50
            out = scrub(text, [KEY], limit)
            assert not any(piece in out for piece in _fragments(KEY)), (offset, limit, out)
    # Partial echoes (a server printing the first or last characters) are hidden too.
    for length in range(SECRET_FRAGMENT_CHARS, len(KEY)):
        assert KEY[:length] not in scrub(f"key {KEY[:length]}... rejected", [KEY])
        assert KEY[-length:] not in scrub(f"key ...{KEY[-length:]} rejected", [KEY])
    # Ordinary text is left alone.
    assert scrub("nothing secret here", [KEY], 10) == "nothing se…"


def test_no_fragment_of_the_key_survives_a_run(
    echo_server: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    monkeypatch.setenv("DDRISK_TEST_API_KEY", KEY)
    items = [{"text": f"error:{n}", "label": "harmful"} for n in ERROR_OFFSETS]
    items += [{"text": f"answer:{n}", "label": "harmful"} for n in ANSWER_OFFSETS]
    items += [{"text": f"fine:{n}", "label": "benign"} for n in range(5)]
    data = tmp_path / "items.jsonl"
    data.write_text("".join(json.dumps(row) + "\n" for row in items))
    layers = tmp_path / "layers.yaml"
    layers.write_text(
        "layers:\n"
        "  - kind: http\n"
        "    name: echo-judge\n"
        "    preset: judge\n"
        f"    base_url: {echo_server}\n"
        "    model: m\n"
        "    api_key_env: DDRISK_TEST_API_KEY\n"
        "    max_attempts: 1\n"
        "    max_concurrency: 8\n"
    )
    runs = tmp_path / "runs"
    caplog.set_level(logging.DEBUG)
    result = CliRunner().invoke(
        main,
        [
            "stress",
            "run",
            "--data",
            str(data),
            "--layers",
            str(layers),
            "--runs-dir",
            str(runs),
            "--bootstrap",
            "0",
            "--quiet",
        ],
    )
    assert result.exit_code == 0, result.output
    stored = [path for path in runs.rglob("*") if path.is_file()]
    names = {path.name for path in stored}
    assert {"run.sqlite", "results.jsonl", "manifest.json", "verdicts.sqlite"} <= names
    rows = [json.loads(line) for line in next(runs.rglob("results.jsonl")).read_text().splitlines()]
    errors = [row["layers"]["echo-judge"]["error"] for row in rows if row["layers"]["echo-judge"]]
    # Keys within the first 300 characters were hidden (later ones fell beyond the cut).
    assert sum(error is not None and "***" in error for error in errors) >= 280
    haystacks = {str(path): path.read_bytes().decode("latin-1") for path in stored}
    haystacks["stdout"] = result.stdout
    haystacks["stderr"] = result.stderr
    haystacks["logs"] = caplog.text
    leaks = {
        where: sorted(piece for piece in _fragments(KEY) if piece in text)
        for where, text in haystacks.items()
    }
    assert not {where: found for where, found in leaks.items() if found}
