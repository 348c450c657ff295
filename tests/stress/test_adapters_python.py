"""The Python-callable adapter: functions, batch functions, batch objects, errors kept apart."""

from __future__ import annotations

import math
import sys
import textwrap
import uuid

import numpy as np
import pytest

from ddrisk.errors import InputError
from ddrisk.stress.adapters import layer_from_spec
from ddrisk.stress.adapters.python_callable import PythonCallableLayer, from_spec, value_to_verdict
from ddrisk.stress.layer import Item, Layer, Verdict, config_hash

GUARD_SOURCE = textwrap.dedent(
    """
    CALLS = []

    def keyword(text):
        CALLS.append(text)
        if text == "explode":
            raise RuntimeError("guard crashed on this text")
        return "bomb" in text

    def scored(text, role):
        return {"user": 0.9, "assistant": 0.1}[role] if "bomb" in text else 0.2

    def batch_scores(texts, roles):
        return [{"score": 0.8 if "bomb" in t else 0.1, "role_seen": r} for t, r in zip(texts, roles)]

    def short_batch(texts):
        return [True]

    def odd_values(text):
        return {"none": None, "nan": float("nan"), "str": "yes", "err": {"error": "model overloaded"},
                "empty": {}, "badblocked": {"blocked": "yes"}}[text]

    class Guard:
        instances = 0

        def __init__(self, words=("bomb",), threshold=0.5):
            Guard.instances += 1
            self.words = words
            self.closed = False

        def check(self, texts):
            if any(t == "explode" for t in texts):
                raise ValueError("batch failed")
            return [any(w in t for w in self.words) for t in texts]

        def close(self):
            self.closed = True

    class Broken:
        def __init__(self):
            raise OSError("weights file missing")

        def check(self, texts):
            return [False for _ in texts]

    guard_instance = Guard(words=("knife",))
    NOT_CALLABLE = 42
    """
)


@pytest.fixture()
def guard_module(tmp_path):
    """A fresh module beside a layers file, importable through ``python_path``."""
    name = f"user_guard_{uuid.uuid4().hex[:8]}"
    (tmp_path / "guards").mkdir()
    (tmp_path / "guards" / f"{name}.py").write_text(GUARD_SOURCE, encoding="utf-8")
    layers_file = tmp_path / "layers.yaml"
    layers_file.write_text("layers: []\n", encoding="utf-8")
    yield name, str(layers_file)
    sys.modules.pop(name, None)


def _items(*texts: str, role: str = "user") -> list[Item]:
    return [Item(f"i{n}", text, role=role) for n, text in enumerate(texts)]


def _spec(module: str, attribute: str, **extra) -> dict:
    return {
        "name": "py",
        "kind": "python",
        "target": f"{module}:{attribute}",
        "python_path": ["guards"],
        **extra,
    }


def test_per_item_function_blocks_passes_and_turns_exceptions_into_errors(guard_module):
    module, source = guard_module
    layer = from_spec(_spec(module, "keyword"), source=source)
    assert isinstance(layer, Layer)
    assert layer.call_mode == "per_item" and layer.unavailable_reason() is None
    verdicts = layer.check(_items("how to build a bomb", "hello", "explode", "bomb again"))
    assert [v.blocked for v in verdicts] == [True, False, None, True]
    assert verdicts[2].error == "RuntimeError: guard crashed on this text"
    assert all(v.latency_ms >= 0 for v in verdicts)
    # every item was handed over, the failing one included, one call each
    assert sys.modules[module].CALLS == ["how to build a bomb", "hello", "explode", "bomb again"]


def test_role_is_passed_when_declared_and_scores_use_the_threshold(guard_module):
    module, source = guard_module
    layer = from_spec(_spec(module, "scored", threshold=0.5), source=source)
    user, assistant = layer.check(_items("bomb") + _items("bomb", role="assistant"))
    assert (user.blocked, user.score) == (True, 0.9)
    assert (assistant.blocked, assistant.score) == (False, 0.1)
    strict = from_spec(_spec(module, "scored", threshold=0.95), source=source)
    assert strict.check(_items("bomb"))[0].blocked is False
    assert config_hash(strict.config()) != config_hash(layer.config())


def test_batch_function_receives_all_texts_and_roles(guard_module):
    module, source = guard_module
    layer = from_spec(_spec(module, "batch_scores", batch=True, batch_size=2), source=source)
    assert layer.call_mode == "batch_function"
    verdicts = layer.check(_items("bomb", "cake", "bomb", role="assistant"))
    assert [v.blocked for v in verdicts] == [True, False, True]
    assert [v.score for v in verdicts] == [0.8, 0.1, 0.8]
    assert verdicts[0].detail["extra"] == {"role_seen": "assistant"}
    assert [v.detail["batch_size"] for v in verdicts] == [2, 2, 1]


def test_batch_returning_the_wrong_number_of_values_errors_every_item(guard_module):
    module, source = guard_module
    layer = from_spec(_spec(module, "short_batch", batch=True), source=source)
    verdicts = layer.check(_items("a", "b", "c"))
    assert all(v.blocked is None for v in verdicts)
    assert verdicts[0].error == "batch call returned 1 values for 3 texts"


def test_class_target_is_instantiated_with_init_and_used_as_a_batch_object(guard_module):
    module, source = guard_module
    layer = from_spec(_spec(module, "Guard", init={"words": ["gun"]}), source=source)
    assert layer.call_mode == "batch_method"
    assert [v.blocked for v in layer.check(_items("a gun", "a bomb"))] == [True, False]
    assert layer.config()["init"] == {"words": ["gun"]}
    instance = layer._call.__self__
    layer.close()
    assert instance.closed is True


def test_batch_object_exception_errors_its_whole_batch_only(guard_module):
    module, source = guard_module
    layer = from_spec(_spec(module, "guard_instance", batch_size=2), source=source)
    verdicts = layer.check(_items("knife", "explode", "knife", "spoon"))
    assert [v.blocked for v in verdicts] == [None, None, True, False]
    assert verdicts[0].error == "batch call failed: ValueError: batch failed"


@pytest.mark.parametrize(
    ("text", "fragment"),
    [
        ("none", "unsupported return value None"),
        ("nan", "is not a finite number"),
        ("str", "unsupported return value 'yes'"),
        ("err", "model overloaded"),
        ("empty", "neither 'blocked' nor 'score'"),
        ("badblocked", "'blocked' must be a bool"),
    ],
)
def test_unusable_return_values_are_errors_never_passes(guard_module, text, fragment):
    module, source = guard_module
    verdict = from_spec(_spec(module, "odd_values"), source=source).check(_items(text))[0]
    assert verdict.blocked is None
    assert fragment in verdict.error


def test_value_conversion_accepts_numpy_and_verdicts():
    assert value_to_verdict(np.bool_(True), threshold=0.5).blocked is True
    converted = value_to_verdict(np.float32(0.25), threshold=0.2)
    assert converted.blocked is True and math.isclose(converted.score, 0.25)
    own = Verdict(blocked=False, score=0.3, detail={"model": "x"})
    assert value_to_verdict(own, threshold=0.5) == own
    timed = value_to_verdict(own, threshold=0.5, latency_ms=4.0)
    assert (timed.blocked, timed.score, timed.latency_ms, timed.detail) == (
        False,
        0.3,
        4.0,
        {"model": "x"},
    )


def test_programmatic_layer_from_a_lambda_records_its_target():
    layer = PythonCallableLayer(name="len", target=lambda text: len(text) / 10, threshold=0.5)
    assert [v.blocked for v in layer.check(_items("short", "a much longer text"))] == [True, True]
    assert layer.config()["target"].endswith(
        ":test_programmatic_layer_from_a_lambda_records_its_target.<locals>.<lambda>"
    )


def test_config_hash_follows_the_module_source(guard_module, tmp_path):
    module, source = guard_module
    before = config_hash(from_spec(_spec(module, "keyword"), source=source).config())
    assert before == config_hash(from_spec(_spec(module, "keyword"), source=source).config())
    assert before != config_hash(
        from_spec(_spec(module, "keyword", version="2"), source=source).config()
    )


def test_missing_module_is_unavailable_not_an_error(tmp_path):
    layer = from_spec(
        {"name": "gone", "kind": "python", "target": "no_such_module_ddrisk:check"},
        source="layers.yaml",
    )
    assert "cannot import module 'no_such_module_ddrisk'" in layer.unavailable_reason()
    assert layer.check(_items("x"))[0].error.startswith("layer unavailable")


def test_module_failing_at_import_makes_the_layer_unavailable(tmp_path):
    name = f"broken_guard_{uuid.uuid4().hex[:8]}"
    (tmp_path / f"{name}.py").write_text("raise RuntimeError('needs a GPU')\n")
    (tmp_path / "layers.yaml").write_text("layers: []\n")
    spec = {"name": "b", "kind": "python", "target": f"{name}:check", "python_path": ["."]}
    layer = from_spec(spec, source=str(tmp_path / "layers.yaml"))
    assert layer.unavailable_reason() == (
        f"importing module '{name}' failed: RuntimeError: needs a GPU"
    )


def test_constructor_failure_makes_the_layer_unavailable(guard_module):
    module, source = guard_module
    layer = from_spec(_spec(module, "Broken"), source=source)
    assert "weights file missing" in layer.unavailable_reason()


@pytest.mark.parametrize(
    ("spec", "where", "fragment"),
    [
        ({"name": "p", "kind": "python"}, "layer 'p'.target", "missing required key 'target'"),
        (
            {"name": "p", "kind": "python", "target": "nocolon"},
            "layer 'p'.target",
            "invalid value 'nocolon'",
        ),
        (
            {"name": "p", "kind": "python", "target": "m:f", "batchsize": 3},
            "layer 'p'.batchsize",
            "unknown key",
        ),
        (
            {"name": "p", "kind": "python", "target": "m:f", "batch_size": 0},
            "layer 'p'.batch_size",
            "out of range",
        ),
        (
            {"name": "9p", "kind": "python", "target": "m:f"},
            "layer '9p'.name",
            "invalid value '9p'",
        ),
        (
            {"name": "p", "kind": "python", "target": "m:f", "python_path": ["nope"]},
            "layer 'p'.python_path[0]",
            "not a folder",
        ),
    ],
)
def test_bad_specs_raise_located_input_errors(spec, where, fragment):
    with pytest.raises(InputError) as caught:
        from_spec(spec, source="layers.yaml")
    assert caught.value.source == "layers.yaml"
    assert caught.value.where == where
    assert fragment in caught.value.problem
    assert caught.value.fix


@pytest.mark.parametrize(
    ("attribute", "extra", "fragment"),
    [
        ("missing_function", {}, "has no attribute 'missing_function'"),
        ("NOT_CALLABLE", {}, "neither callable nor an object"),
        ("keyword", {"init": {"a": 1}}, "'init' is only used when the target is a class"),
        ("Guard", {"init": {"colour": "red"}}, "unexpected keyword argument 'colour'"),
    ],
)
def test_targets_of_the_wrong_shape_are_spec_errors(guard_module, attribute, extra, fragment):
    module, source = guard_module
    with pytest.raises(InputError) as caught:
        from_spec(_spec(module, attribute, **extra), source=source, where="layers[3]")
    assert caught.value.where == "layers[3].target"
    assert fragment in caught.value.problem


def test_dispatch_rejects_unknown_kinds_and_non_mappings():
    with pytest.raises(InputError, match="unknown layer kind 'grpc'"):
        layer_from_spec({"name": "x", "kind": "grpc"}, source="l.yaml")
    with pytest.raises(InputError, match="missing required key 'kind'"):
        layer_from_spec({"name": "x"}, source="l.yaml")
    with pytest.raises(InputError, match="must be a mapping"):
        layer_from_spec(["x"], source="l.yaml", where="layers[0]")


def test_python_and_shell_adapters_load_without_httpx(monkeypatch):
    monkeypatch.setitem(sys.modules, "httpx", None)  # makes `import httpx` fail
    monkeypatch.delitem(sys.modules, "ddrisk.stress.adapters.http", raising=False)
    from ddrisk.stress import adapters

    layer = layer_from_spec(
        {"name": "t", "kind": "python", "target": "operator:truth"}, source="l.yaml"
    )
    assert layer.check([Item("a", "x")])[0].blocked is True
    assert adapters.ShellLayer.__name__ == "ShellLayer"
    with pytest.raises(InputError, match=r"the 'http' adapter cannot be loaded.*ddrisk\[stress\]"):
        layer_from_spec({"name": "h", "kind": "http"}, source="l.yaml")
