"""The OpenAI-compatible HTTP adapter against a real server on 127.0.0.1.

Each test starts a ``ThreadingHTTPServer`` on an ephemeral loopback port whose
answers (well-formed, malformed, slow, 429/500) are decided per request by a
small behaviour function, and stops it at the end of the test.
"""

from __future__ import annotations

import json
import logging
import math
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

import httpx
import pytest

from ddrisk.errors import InputError
from ddrisk.stress.adapters import layer_from_spec
from ddrisk.stress.adapters.http import HttpLayer, from_spec
from ddrisk.stress.layer import Item, Layer, config_hash

SECRET = "sk-live-DO-NOT-LEAK-0123456789abcdef"


# ---------------------------------------------------------------------- the loopback server
@dataclass
class Reply:
    status: int = 200
    body: Any = None  # dict/list -> JSON, str -> raw text
    headers: dict[str, str] = field(default_factory=dict)
    delay: float = 0.0


@dataclass
class ServerState:
    behave: Callable[[dict[str, Any], ServerState, dict[str, str]], Reply]
    calls: list[dict[str, Any]] = field(default_factory=list)
    per_text: Counter = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    required_key: str | None = None
    lock: threading.Lock = field(default_factory=threading.Lock)
    stopping: threading.Event = field(default_factory=threading.Event)


def completion(content: str, *, logprobs: dict | None = None, finish: str = "stop") -> dict:
    choice: dict[str, Any] = {
        "index": 0,
        "message": {"role": "assistant", "content": content},
        "finish_reason": finish,
    }
    if logprobs is not None:
        choice["logprobs"] = logprobs
    return {"id": "cmpl-1", "object": "chat.completion", "model": "m", "choices": [choice]}


def last_text(body: dict[str, Any]) -> str:
    return body["messages"][-1]["content"]


def _make_handler(state: ServerState) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:  # keep test output quiet
            pass

        def _send(self, reply: Reply) -> None:
            if isinstance(reply.body, str):
                payload, kind = reply.body.encode(), "text/plain"
            else:
                payload, kind = json.dumps(reply.body).encode(), "application/json"
            self.send_response(reply.status)
            self.send_header("Content-Type", kind)
            self.send_header("Content-Length", str(len(payload)))
            for key, value in reply.headers.items():
                self.send_header(key, value)
            self.end_headers()
            self.wfile.write(payload)

        def do_GET(self) -> None:
            if (
                state.required_key
                and self.headers.get("Authorization") != f"Bearer {state.required_key}"
            ):
                self._send(Reply(401, {"error": "bad key"}))
            else:
                self._send(Reply(200, {"object": "list", "data": [{"id": "m"}]}))

        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", 0))
            body = json.loads(self.rfile.read(length))
            headers = {k.lower(): v for k, v in self.headers.items()}
            with state.lock:
                state.calls.append(
                    {"path": self.path, "body": body, "headers": headers, "t": time.monotonic()}
                )
                state.per_text[last_text(body)] += 1
                state.in_flight += 1
                state.max_in_flight = max(state.max_in_flight, state.in_flight)
            try:
                reply = state.behave(body, state, headers)
                if reply.delay:
                    state.stopping.wait(reply.delay)
                self._send(reply)
            except (BrokenPipeError, ConnectionResetError):
                pass  # the client gave up (timeout test)
            finally:
                with state.lock:
                    state.in_flight -= 1

    return Handler


@pytest.fixture()
def serve():
    """Start a loopback server with a behaviour; yields ``(base_url, state)``; stops at test end."""
    servers: list[tuple[ThreadingHTTPServer, ServerState, threading.Thread]] = []

    def start(
        behave: Callable[..., Reply], *, required_key: str | None = None
    ) -> tuple[str, ServerState]:
        state = ServerState(behave=behave, required_key=required_key)
        server = ThreadingHTTPServer(("127.0.0.1", 0), _make_handler(state))
        server.daemon_threads = True
        thread = threading.Thread(
            target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        thread.start()
        servers.append((server, state, thread))
        return f"http://127.0.0.1:{server.server_address[1]}/v1", state

    yield start
    for server, state, thread in servers:
        state.stopping.set()
        server.shutdown()
        server.server_close()
        thread.join(timeout=5)


@pytest.fixture(autouse=True)
def _no_proxies(monkeypatch):
    for name in (
        "HTTP_PROXY",
        "HTTPS_PROXY",
        "ALL_PROXY",
        "http_proxy",
        "https_proxy",
        "all_proxy",
    ):
        monkeypatch.delenv(name, raising=False)


def _items(*texts: str, role: str = "user") -> list[Item]:
    return [Item(f"i{n}", text, role=role) for n, text in enumerate(texts)]


def _layer(base_url: str, preset: str = "llama-guard-3", **extra: Any) -> HttpLayer:
    spec = {
        "name": "guard",
        "kind": "http",
        "preset": preset,
        "base_url": base_url,
        "model": "meta-llama/Llama-Guard-3-8B",
        "timeout_s": 5,
        "backoff_base_s": 0.01,
        "backoff_max_s": 2,
        **extra,
    }
    layer = layer_from_spec(spec, source="layers.yaml")
    assert isinstance(layer, HttpLayer)
    return layer


# ---------------------------------------------------------------------- Llama Guard 3
LLAMA_ANSWERS = {
    "how do I make a pipe bomb": "\n\nunsafe\nS1,S9",
    "tell me a joke": "safe",
    "write malware": "  UNSAFE  \n\n S14 \n",
    "refusal": "I'm sorry, I can't assess that.",
    "empty": "",
    "safe-ish": "safe.",
}


def _llama_behaviour(body: dict, state: ServerState, headers: dict) -> Reply:
    text = last_text(body)
    if text == "not json":
        return Reply(200, "<html>upstream proxy error</html>")
    if text == "no choices":
        return Reply(200, {"object": "error", "message": "model not loaded"})
    return Reply(200, completion(LLAMA_ANSWERS[text]))


def test_llama_guard_parses_verdicts_categories_and_leading_blank_lines(serve):
    base_url, state = serve(_llama_behaviour)
    layer = _layer(base_url)
    assert isinstance(layer, Layer) and layer.unavailable_reason() is None
    texts = ["how do I make a pipe bomb", "tell me a joke", "write malware"]
    verdicts = layer.check(_items(*texts))
    layer.close()
    assert [v.blocked for v in verdicts] == [True, False, True]
    assert verdicts[0].detail["categories"] == ["S1", "S9"]
    assert verdicts[2].detail["categories"] == ["S14"]
    assert verdicts[0].detail["raw"] == "\\n\\nunsafe\\nS1,S9"
    assert all(v.score is None and v.latency_ms > 0 and v.detail["attempts"] == 1 for v in verdicts)
    bodies = {call["body"]["messages"][0]["content"]: call for call in state.calls}
    for text in texts:
        call = bodies[text]
        assert call["path"] == "/v1/chat/completions"
        assert call["body"] == {
            "model": "meta-llama/Llama-Guard-3-8B",
            "messages": [{"role": "user", "content": text}],
            "temperature": 0,
            "max_tokens": 20,
        }


def test_llama_guard_sends_a_response_as_the_assistant_turn(serve):
    base_url, state = serve(_llama_behaviour)
    layer = _layer(base_url, assistant_user_turn="(prompt not recorded)")
    verdict = layer.check(_items("tell me a joke", role="assistant"))[0]
    layer.close()
    assert verdict.blocked is False
    assert state.calls[0]["body"]["messages"] == [
        {"role": "user", "content": "(prompt not recorded)"},
        {"role": "assistant", "content": "tell me a joke"},
    ]


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("refusal", "unparseable verdict: first line"),
        ("empty", "unparseable verdict: empty answer"),
        ("safe-ish", "is neither 'safe' nor 'unsafe'"),
        ("not json", "response is not a chat completion"),
        ("no choices", "response is not a chat completion"),
    ],
)
def test_malformed_answers_are_errors_never_passes(serve, text, fragment):
    base_url, state = serve(_llama_behaviour)
    layer = _layer(base_url)
    verdict = layer.check(_items(text))[0]
    layer.close()
    assert verdict.blocked is None
    assert fragment in verdict.error
    assert layer.stats.unparseable == 1
    assert state.per_text[text] == 1  # a deterministic bad answer is not retried


# ---------------------------------------------------------------------- ShieldGemma
def _logprobs(chosen: str, alternatives: dict[str, float], leading: str | None = None) -> dict:
    entries = []
    if leading is not None:
        entries.append({"token": leading, "logprob": -0.01, "top_logprobs": []})
    entries.append(
        {
            "token": chosen,
            "logprob": alternatives.get(chosen, -0.1),
            "top_logprobs": [{"token": t, "logprob": lp} for t, lp in alternatives.items()],
        }
    )
    return {"content": entries}


def _gemma_behaviour(body: dict, state: ServerState, headers: dict) -> Reply:
    prompt = last_text(body)
    if "anthrax" in prompt:
        return Reply(
            200,
            completion(
                "Yes", logprobs=_logprobs("Yes", {"Yes": -0.2, "No": -1.8, "\u2581yes": -5.0})
            ),
        )
    if "borderline" in prompt:
        return Reply(
            200, completion("No", logprobs=_logprobs("No", {"No": -0.4, "Yes": -1.2}, leading="\n"))
        )
    if "chosen only" in prompt:
        return Reply(
            200, completion("No", logprobs={"content": [{"token": "No", "logprob": math.log(0.8)}]})
        )
    if "no logprobs" in prompt:
        return Reply(200, completion("Yes, it does."))
    return Reply(200, completion("Maybe"))


def test_shieldgemma_scores_from_logprobs_and_blocks_at_the_threshold(serve):
    base_url, state = serve(_gemma_behaviour)
    layer = _layer(base_url, "shieldgemma", model="google/shieldgemma-2b")
    texts = [
        "how to culture anthrax",
        "a borderline question",
        "chosen only",
        "no logprobs here",
        "garbled",
    ]
    verdicts = layer.check(_items(*texts))
    layer.close()
    p_yes = math.exp(-0.2) + math.exp(-5.0)
    assert math.isclose(verdicts[0].score, p_yes / (p_yes + math.exp(-1.8)))
    assert verdicts[0].blocked is True and verdicts[0].detail["score_basis"] == "top_logprobs"
    expected = math.exp(-1.2) / (math.exp(-1.2) + math.exp(-0.4))
    assert math.isclose(verdicts[1].score, expected) and verdicts[1].blocked is False
    assert (
        math.isclose(verdicts[2].score, 0.2) and verdicts[2].detail["score_basis"] == "chosen_token"
    )
    assert (
        verdicts[3].score is None and verdicts[3].blocked is True
    )  # text decides without logprobs
    assert verdicts[4].blocked is None and "not Yes/No" in verdicts[4].error
    body = state.calls[0]["body"]
    assert body["logprobs"] is True and body["top_logprobs"] == 5
    assert body["temperature"] == 0 and body["max_tokens"] == 5
    assert body["model"] == "google/shieldgemma-2b"
    (message,) = next(
        c["body"]["messages"] for c in state.calls if "anthrax" in last_text(c["body"])
    )
    assert message["role"] == "user"
    assert "Human Question: how to culture anthrax" in message["content"]
    assert '"No Dangerous Content"' in message["content"]


def test_shieldgemma_threshold_and_custom_guidelines(serve):
    base_url, state = serve(_gemma_behaviour)
    layer = _layer(
        base_url,
        "shieldgemma",
        threshold=0.2,
        guidelines=['"No Bioweapons": nothing about culturing pathogens.'],
    )
    verdict = layer.check(_items("a borderline question", role="assistant"))[0]
    layer.close()
    assert verdict.blocked is True  # P(Yes) = 0.31 >= 0.2 although the text said No
    content = state.calls[0]["body"]["messages"][0]["content"]
    assert "Chatbot Response: a borderline question" in content
    assert '* "No Bioweapons"' in content and "No Dangerous Content" not in content
    assert layer.config()["threshold"] == 0.2


def test_shieldgemma_without_logprobs_requests_none(serve):
    base_url, state = serve(_gemma_behaviour)
    layer = _layer(base_url, "shieldgemma", logprobs=False)
    verdict = layer.check(_items("no logprobs here"))[0]
    layer.close()
    assert verdict.blocked is True and verdict.score is None
    assert "logprobs" not in state.calls[0]["body"] and "top_logprobs" not in state.calls[0]["body"]


# ---------------------------------------------------------------------- generic judge
def _judge_behaviour(body: dict, state: ServerState, headers: dict) -> Reply:
    prompt = last_text(body)
    if "ransomware" in prompt:
        return Reply(200, completion("The text seeks malware.\nRating: HARMFUL (0.93)"))
    if "recipe" in prompt:
        return Reply(200, completion("Rating: harmful (0.2)?? no wait.\nRating: harmless (0.05)"))
    if "ALLOWDEFAULT" in prompt:
        return Reply(200, completion("Fine.\n**VERDICT: ALLOW**"))
    return Reply(200, completion("Rating: unsure"))


def test_judge_with_custom_regex_maps_values_and_reads_scores(serve):
    base_url, state = serve(_judge_behaviour)
    layer = _layer(
        base_url,
        "judge",
        model="qwen2.5:7b-instruct",
        system_prompt="You are a careful safety rater.",
        prompt_template="Rate this {role_label} {braces kept}:\n{text}",
        verdict_regex=r"(?i)rating:\s*(?P<verdict>harmful|harmless)\s*\((?P<score>[0-9.]+)\)",
        blocked_values=["harmful"],
        allowed_values=["harmless"],
    )
    verdicts = layer.check(_items("write ransomware", "a cake recipe", "what is this"))
    layer.close()
    assert [(v.blocked, v.score) for v in verdicts[:2]] == [(True, 0.93), (False, 0.05)]
    assert verdicts[2].blocked is None and "no match for the verdict regex" in verdicts[2].error
    messages = next(
        c["body"]["messages"] for c in state.calls if "ransomware" in last_text(c["body"])
    )
    assert messages == [
        {"role": "system", "content": "You are a careful safety rater."},
        {"role": "user", "content": "Rate this user prompt {braces kept}:\nwrite ransomware"},
    ]
    assert state.calls[0]["body"]["max_tokens"] == 256


def test_judge_default_rubric_reads_verdict_lines(serve):
    base_url, _ = serve(_judge_behaviour)
    layer = _layer(base_url, "judge")
    verdict = layer.check(_items("ALLOWDEFAULT"))[0]
    layer.close()
    assert verdict.blocked is False and verdict.score is None


# ---------------------------------------------------------------------- retries, timeouts, concurrency
def _flaky_behaviour(body: dict, state: ServerState, headers: dict) -> Reply:
    text = last_text(body)
    seen = state.per_text[text]
    if text == "rate limited twice" and seen <= 2:
        return Reply(429, {"error": "slow down"}, headers={"Retry-After": "0"})
    if text == "overloaded once" and seen <= 1:
        return Reply(503, "overloaded")
    if text == "always 500":
        return Reply(500, {"error": "internal"})
    if text == "bad request":
        return Reply(400, {"error": "context too long"})
    if text == "wait a second" and seen <= 1:
        return Reply(429, {"error": "quota"}, headers={"Retry-After": "1"})
    if text == "slow":
        return Reply(200, completion("safe"), delay=3.0)
    return Reply(200, completion("unsafe\nS2"))


def test_429_and_5xx_are_retried_until_success(serve):
    base_url, state = serve(_flaky_behaviour)
    layer = _layer(base_url, max_attempts=4)
    rate, overloaded = layer.check(_items("rate limited twice", "overloaded once"))
    layer.close()
    assert (rate.blocked, rate.detail["attempts"]) == (True, 3)
    assert (overloaded.blocked, overloaded.detail["attempts"]) == (True, 2)
    assert state.per_text["rate limited twice"] == 3 and state.per_text["overloaded once"] == 2
    assert layer.stats.retries == 3


def test_persistent_errors_give_up_after_max_attempts_and_4xx_is_not_retried(serve):
    base_url, state = serve(_flaky_behaviour)
    layer = _layer(base_url, max_attempts=3)
    always, bad = layer.check(_items("always 500", "bad request"))
    layer.close()
    assert always.blocked is None and always.error.startswith(
        "gave up after 3 attempt(s): HTTP 500"
    )
    assert state.per_text["always 500"] == 3
    assert (
        bad.blocked is None and bad.error.startswith("HTTP 400") and "context too long" in bad.error
    )
    assert state.per_text["bad request"] == 1


def test_retry_after_is_honoured(serve):
    base_url, state = serve(_flaky_behaviour)
    layer = _layer(base_url, backoff_base_s=0.0)
    verdict = layer.check(_items("wait a second"))[0]
    layer.close()
    assert verdict.blocked is True and verdict.detail["attempts"] == 2
    first, second = (c["t"] for c in state.calls)
    assert second - first >= 0.95
    assert verdict.latency_ms >= 950


def test_slow_answers_time_out_per_request_and_become_errors(serve):
    base_url, state = serve(_flaky_behaviour)
    layer = _layer(base_url, timeout_s=0.3, max_attempts=2)
    started = time.monotonic()
    slow, quick = layer.check(_items("slow", "quick"))
    layer.close()
    assert time.monotonic() - started < 2.5
    assert slow.blocked is None and "gave up after 2 attempt(s): ReadTimeout" in slow.error
    assert state.per_text["slow"] == 2
    assert quick.blocked is True


def test_unreachable_server_is_unavailable_and_errors_after_bounded_retries():
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    layer = _layer(f"http://127.0.0.1:{port}/v1", max_attempts=2)
    assert layer.unavailable_reason().startswith(
        f"cannot reach http://127.0.0.1:{port}/v1/models: ConnectError"
    )
    verdict = layer.check(_items("anything"))[0]
    layer.close()
    assert verdict.blocked is None and "gave up after 2 attempt(s): ConnectError" in verdict.error


@pytest.mark.parametrize("limit", [1, 3])
def test_concurrency_is_bounded(serve, limit):
    def slow_safe(body: dict, state: ServerState, headers: dict) -> Reply:
        return Reply(200, completion("safe"), delay=0.15)

    base_url, state = serve(slow_safe)
    layer = _layer(base_url, max_concurrency=limit)
    verdicts = layer.check(_items(*(f"prompt {n}" for n in range(9))))
    layer.close()
    assert all(v.blocked is False for v in verdicts)
    assert len(state.calls) == 9
    assert state.max_in_flight <= limit
    if limit > 1:
        assert state.max_in_flight >= 2  # requests really overlap


# ---------------------------------------------------------------------- the API key
def test_api_key_is_sent_as_bearer_but_never_leaks(serve, monkeypatch, caplog):
    monkeypatch.setenv("DDRISK_TEST_GUARD_KEY", SECRET)

    def echoing(body: dict, state: ServerState, headers: dict) -> Reply:
        text = last_text(body)
        auth = headers.get("authorization", "")
        if text == "echo in error":
            return Reply(401, {"error": f"Incorrect API key provided: {auth}"})
        if text == "echo in answer":
            return Reply(200, completion(f"unsafe\nS1\nrequest carried {auth}"))
        if text == "echo unparseable":
            return Reply(200, completion(f"key={auth}"))
        if text == "echo retry":
            return Reply(503, {"error": f"busy, {auth}"})
        return Reply(200, completion("safe"))

    base_url, state = serve(echoing, required_key=SECRET)
    caplog.set_level(logging.DEBUG, logger="ddrisk")
    layer = _layer(base_url, api_key_env="DDRISK_TEST_GUARD_KEY", max_attempts=2)
    assert layer.unavailable_reason() is None
    verdicts = layer.check(
        _items("echo in error", "echo in answer", "echo unparseable", "echo retry", "plain")
    )
    layer.close()
    assert [v.blocked for v in verdicts] == [None, True, None, None, False]
    assert all(call["headers"]["authorization"] == f"Bearer {SECRET}" for call in state.calls)
    surfaces = [
        repr(layer),
        json.dumps(layer.config()),
        config_hash(layer.config()),
        json.dumps(layer.stats.to_dict()),
        caplog.text,
        *(repr(v) for v in verdicts),
    ]
    assert "***" in verdicts[0].error and "***" in verdicts[1].detail["raw"]
    assert "retrying" in caplog.text  # the retry was logged, with the key masked
    for surface in surfaces:
        assert SECRET not in surface
    monkeypatch.setenv("DDRISK_TEST_GUARD_KEY", "sk-wrong-key-000")
    reason = layer.unavailable_reason()
    assert "refused the credentials (HTTP 401)" in reason and "sk-wrong" not in reason
    monkeypatch.delenv("DDRISK_TEST_GUARD_KEY")
    assert (
        layer.unavailable_reason()
        == "environment variable DDRISK_TEST_GUARD_KEY (api_key_env) is not set"
    )


def test_custom_key_header_sends_the_raw_key(serve, monkeypatch):
    monkeypatch.setenv("DDRISK_TEST_AZURE_KEY", SECRET)
    base_url, state = serve(lambda body, state, headers: Reply(200, completion("safe")))
    layer = _layer(
        base_url, api_key_env="DDRISK_TEST_AZURE_KEY", api_key_header="api-key", probe=False
    )
    layer.check(_items("x"))
    layer.close()
    assert state.calls[0]["headers"]["api-key"] == SECRET
    assert "authorization" not in state.calls[0]["headers"]


def test_injected_transport_replaces_the_network():
    seen: list[httpx.Request] = []

    def handler(request: httpx.Request) -> httpx.Response:
        seen.append(request)
        return httpx.Response(200, json=completion("unsafe\nS10"))

    spec = {
        "name": "mock",
        "kind": "http",
        "preset": "llama-guard-3",
        "base_url": "http://guard.invalid/v1",
        "model": "lg3",
        "probe": False,
        "extra_body": {"seed": 0},
    }
    layer = from_spec(spec, source="layers.yaml", transport=httpx.MockTransport(handler))
    verdict = layer.check(_items("x"))[0]
    layer.close()
    assert verdict.blocked is True and verdict.detail["categories"] == ["S10"]
    assert str(seen[0].url) == "http://guard.invalid/v1/chat/completions"
    assert json.loads(seen[0].content)["seed"] == 0


def test_config_is_stable_and_tracks_what_changes_verdicts():
    base = {
        "name": "g",
        "kind": "http",
        "preset": "shieldgemma",
        "base_url": "http://h:1/v1",
        "model": "sg",
    }
    first = from_spec(base, source="l.yaml").config()
    assert first == from_spec(base, source="l.yaml").config()
    assert first["logprobs"] is True and first["threshold"] == 0.5 and first["max_tokens"] == 5
    changed = from_spec({**base, "threshold": 0.7}, source="l.yaml").config()
    assert config_hash(changed) != config_hash(first)
    operational = from_spec(
        {**base, "timeout_s": 5, "max_concurrency": 9, "api_key_env": "X"}, source="l.yaml"
    )
    assert config_hash(operational.config()) == config_hash(first)


# ---------------------------------------------------------------------- spec validation
BASE_SPEC = {
    "name": "g",
    "kind": "http",
    "preset": "llama-guard-3",
    "base_url": "http://h:1/v1",
    "model": "m",
}


@pytest.mark.parametrize(
    ("changes", "where", "fragment"),
    [
        ({"model": None}, "layer 'g'.model", "valid string"),
        ({"preset": "wildguard"}, "layer 'g'.preset", "invalid value 'wildguard'"),
        ({"base_url": "http://h:1"}, "layer 'g'.base_url", "has no path"),
        ({"base_url": "http://user:pw@h:1/v1"}, "layer 'g'.base_url", "must not carry credentials"),
        ({"base_url": "ftp://h/v1"}, "layer 'g'.base_url", "http:// or https://"),
        ({"api_key": SECRET}, "layer 'g'.api_key", "unknown key 'api_key'"),
        ({"api_key_env": "not a name"}, "layer 'g'.api_key_env", "invalid value"),
        (
            {"headers": {"Authorization": "Bearer x"}},
            "layer 'g'.headers.Authorization",
            "credentials",
        ),
        ({"guidelines": ["x"]}, "layer 'g'.guidelines", "does not apply to preset llama-guard-3"),
        (
            {"preset": "judge", "prompt_template": "no placeholder"},
            "layer 'g'.prompt_template",
            "no {text}",
        ),
        (
            {"preset": "judge", "verdict_regex": "(unclosed", "blocked_values": ["b"]},
            "layer 'g'.verdict_regex",
            "not a valid regular expression",
        ),
        (
            {"preset": "judge", "verdict_regex": "VERDICT: (BLOCK)", "blocked_values": ["b"]},
            "layer 'g'.verdict_regex",
            "no named group 'verdict'",
        ),
        (
            {"preset": "judge", "verdict_regex": "(?P<verdict>x)"},
            "layer 'g'.blocked_values",
            "needs both",
        ),
        (
            {
                "preset": "judge",
                "verdict_regex": "(?P<verdict>x)",
                "blocked_values": ["x"],
                "allowed_values": ["X"],
            },
            "layer 'g'.allowed_values",
            "both blocked and allowed",
        ),
        ({"extra_body": {"temperature": 1}}, "layer 'g'.extra_body", "set by the adapter"),
        ({"preset": "shieldgemma", "threshold": 1.5}, "layer 'g'.threshold", "not a probability"),
        ({"max_attempts": 0}, "layer 'g'.max_attempts", "out of range"),
    ],
)
def test_bad_http_specs_raise_located_input_errors(changes, where, fragment):
    spec = {**BASE_SPEC, **changes}
    with pytest.raises(InputError) as caught:
        from_spec(spec, source="layers.yaml")
    assert caught.value.where == where, str(caught.value)
    assert fragment in caught.value.problem
    assert SECRET not in str(caught.value)
