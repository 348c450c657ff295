"""The fast YAML path (libyaml events, shared plain scalars) keeps every guarantee of the slow one.

With libyaml, :mod:`ddrisk.io._yaml` pulls events straight from the C parser and constructs each
distinct plain scalar once. Without it (PyYAML built without libyaml) the pure-Python parser
feeds the same builder. Both must give the same values, the same line numbers and the same
one-line errors (duplicate keys with their line, merge keys, tags, aliases, limits); a large
catalog must load to the same object either way. Timing lives in benchmarks/bench_e2e.py.
"""

from __future__ import annotations

import pytest
import yaml

from ddrisk.errors import InputError
from ddrisk.io import _yaml
from ddrisk.io.catalog import parse_catalog
from ddrisk.io.documents import parse_document

DEFECTS = [
    "a: 1\nb: 2\na: 3\n",
    "x:\n  k: 1\n  k: 2\n",
    "yes: 1\ntrue: 2\n",
    "a: &a [1, *a]\n",
    "a: *nowhere\n",
    "<<: {a: 1}\n",
    "x:\n  y: {<<: {a: 1}}\n",
    "? [a, b]\n: 1\n",
    "a: !!python/object/apply:os.system [ls]\n",
    "a: 1\n---\nb: 2\n",
    "n: " + "7" * 5000 + "\n",
    "a: 1\nn: -1" + "0" * 301 + "\n",
    "ratings:\n- {technique: A, failure_mode: M, level: prone}\n"
    "- {technique: A, failure_mode: M, level: prone, level: unclear}\n",
]


@pytest.fixture(params=["libyaml", "pure-python"])
def parser_kind(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    if request.param == "libyaml":
        if not getattr(yaml, "__with_libyaml__", False):
            pytest.skip("PyYAML was built without libyaml here")
    else:
        monkeypatch.setattr(yaml, "__with_libyaml__", False)
    return str(request.param)


def _error(text: str, **limits: int) -> InputError:
    with pytest.raises(InputError) as caught:
        parse_document(text, label="f.yaml", **limits)
    return caught.value


def _both(text: str, monkeypatch: pytest.MonkeyPatch, **limits: int) -> tuple[str, str]:
    fast = str(_error(text, **limits))
    with monkeypatch.context() as patch:
        patch.setattr(yaml, "__with_libyaml__", False)
        slow = str(_error(text, **limits))
    return fast, slow


@pytest.mark.parametrize("text", DEFECTS)
def test_errors_are_the_same_one_line_with_and_without_libyaml(
    text: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    fast, slow = _both(text, monkeypatch)
    assert fast == slow and "\n" not in fast and "line " in fast


def test_duplicate_key_inside_a_rating_names_its_line(parser_kind: str) -> None:
    error = _error(DEFECTS[-1])
    assert error.where == "line 3" and "duplicate key 'level' in ratings[1]" in error.problem


def test_limits_hold_on_the_fast_path(parser_kind: str) -> None:
    assert "more than 5 values" in _error("[1, 2, 3, 4, 5, 6]", max_nodes=5).problem
    deep = "".join("  " * i + f"k{i}:\n" for i in range(70)) + "  " * 70 + "v\n"
    assert "levels deep" in _error(deep).problem
    bomb = ['l0: &l0 ["a","a","a","a","a","a","a","a","a","a"]']
    bomb += [f"l{i}: &l{i} [{', '.join([f'*l{i - 1}'] * 10)}]" for i in range(1, 9)]
    assert "expands to more than" in _error("\n".join(bomb) + "\n").problem


def test_shared_plain_scalars_keep_their_types(parser_kind: str) -> None:
    text = "a: '1.0'\nb: 1.0\nc: \"yes\"\nd: yes\ne: '1.0'\nf: 1.0\ng: ~\nh: '~'\ni: 0x10\n"
    data = parse_document(text).data
    assert data == {
        "a": "1.0",
        "b": 1.0,
        "c": "yes",
        "d": True,
        "e": "1.0",
        "f": 1.0,
        "g": None,
        "h": "~",
        "i": 16,
    }
    assert data == yaml.safe_load(text)


def _big_catalog(n_techniques: int, n_modes: int) -> str:
    lines = [
        'schema_version: "1.0"',
        "id: big",
        'version: "1"',
        "title: Big",
        "raters:",
        "- {id: r, name: R, kind: team}",
        "techniques:",
    ]
    lines += [
        f"- {{id: T{i}, name: T{i}, category: filter, safety_tax: low}}"
        for i in range(n_techniques)
    ]
    lines += ["failure_modes:"] + [f"- {{id: M{j}, name: M{j}}}" for j in range(n_modes)]
    lines.append("ratings:")
    levels = ("prone", "not_prone", "unclear")
    for i in range(n_techniques):
        for j in range(n_modes):
            lines += [
                f"- technique: T{i}",
                f"  failure_mode: M{j}",
                f"  level: {levels[(i * 7 + j) % 3]}",
                "  rater: r",
            ]
    return "\n".join(lines) + "\n"


def test_a_4000_rating_catalog_loads_the_same_with_and_without_libyaml(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    text = _big_catalog(50, 80)
    fast_document = parse_document(text, label="big.yaml")
    fast = parse_catalog(text, label="big.yaml")
    with monkeypatch.context() as patch:
        patch.setattr(yaml, "__with_libyaml__", False)
        slow_document = parse_document(text, label="big.yaml")
        slow = parse_catalog(text, label="big.yaml")
    assert len(fast.ratings) == 4000
    assert fast == slow and fast_document.data == slow_document.data
    assert fast_document.lines == slow_document.lines
    last = text.count("\n") - 1
    assert fast_document.where(("ratings", 3999, "level")).startswith(f"line {last} ")


def test_the_builder_uses_libyaml_when_pyyaml_has_it() -> None:
    parser = _yaml._event_parser("a: 1\n")
    try:
        expected = "CParser" if getattr(yaml, "__with_libyaml__", False) else "SafeLoader"
        assert type(parser).__name__ == expected
    finally:
        parser.dispose()
