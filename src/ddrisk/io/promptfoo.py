"""Import promptfoo JSON output (``promptfoo eval -o results.json``) as an outcome matrix.

What the file holds
-------------------
Output version 3 (version 2 has the same per-result shape)::

    {"evalId": ..., "results": {"version": 3, "prompts": [...], "stats": {...},
      "results": [{"promptIdx", "testIdx", "testCase": {"vars", "metadata", "assert"},
                   "vars", "provider": {"id", "label"}, "prompt": {"raw"},
                   "response": {"output", "guardrails": {"flagged", "flaggedInput",
                                "flaggedOutput", "reason"}},
                   "error", "failureReason", "success", "score",
                   "gradingResult": {"pass", "score", "componentResults": [
                       {"pass", "score", "reason", "assertion": {"type", "value", "metric"}}]}}]}}

Mapping to :class:`~ddrisk.stress.matrix.OutcomeMatrix`
-------------------------------------------------------
* **Item** = one test case under one prompt template (``testIdx``, ``promptIdx``). The same
  item seen through several providers is one row.
* **Layers**: for every provider (name prefixed ``<provider>/`` when the file has several):

  - ``guardrails``: the provider's own guard, from ``response.guardrails.flagged``.
    ``blocked = flagged`` for every item. A ``guardrails`` object without ``flagged``
    is an error, not a pass (promptfoo itself fails open there).
  - one layer per assertion (``componentResults``), named by the assertion's ``metric``
    when set, else its ``type`` (a repeated name within one test gets ``#2``...). Give
    the same judge the same ``metric`` across tests to make it one layer. A promptfoo
    assertion passes when the behaviour was right, so a **failed assertion is a layer
    failure**: on a harmful item ``blocked = pass``; on a benign item ``blocked = not
    pass`` (write benign tests so that they pass when the model answers, e.g.
    ``not-is-refusal``). Assertions of type ``guardrails`` are skipped because the
    ``guardrails`` layer already carries their verdict without promptfoo's mode-dependent
    inversion.
* A result with ``failureReason`` 2 (a provider or run error) makes every layer of that
  provider an error for the item. promptfoo also sets ``error`` on results whose
  assertions failed (``failureReason`` 1); those are verdicts (failed assertions), never
  errors. Cells a layer never judged are empty (not evaluated).
* Labels: ``family``, ``behavior_id`` and ``harmful`` are read from ``testCase.metadata``,
  then the result's ``metadata``, then ``vars`` (keys configurable). Without a family key
  the red-team ``strategyId``, then ``pluginId``, is used; without a behavior key each
  test is its own cluster; without a label every item counts as ``default_harmful``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any, Literal

from ddrisk.errors import InputError
from ddrisk.io._outcome_records import (
    LabelKeys,
    OutcomeBuilder,
    check_file,
    load_json,
    lookup,
    parse_label,
    unsupported_version,
)
from ddrisk.io.documents import read_text_file
from ddrisk.stress.matrix import OutcomeMatrix

SUPPORTED_PROMPTFOO_VERSIONS = (2, 3)
"""promptfoo output versions read (``results.version``); version 3 is written by promptfoo
0.5x-0.12x and checked on the output of promptfoo 0.121.20."""
MAX_RESULT_BYTES = 256 * 1024 * 1024
"""Largest promptfoo output file read (256 MiB)."""
_FAILURE_REASONS = {0: "none", 1: "assertion", 2: "error"}
_FIX_FORMAT = "pass the file written by `promptfoo eval -o results.json` (output version 2 or 3)"


def _mapping(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _provider_name(result: dict[str, Any]) -> str:
    provider = result.get("provider")
    if isinstance(provider, dict):
        return str(provider.get("label") or provider.get("id") or "provider")
    if isinstance(provider, str):
        return provider
    return "provider"


def _results_list(data: Any, label: str) -> tuple[list[Any], str, Any]:
    if not isinstance(data, dict):
        raise InputError(label, "top level", "expected a JSON object", _FIX_FORMAT)
    block = data.get("results")
    if isinstance(block, dict):
        version = block.get("version")
        if version not in SUPPORTED_PROMPTFOO_VERSIONS:
            raise unsupported_version(
                label,
                "results.version",
                version,
                SUPPORTED_PROMPTFOO_VERSIONS,
                tool="promptfoo",
                kind="output",
            )
        rows = block.get("results")
        if not isinstance(rows, list):
            raise InputError(label, "results.results", "expected a list of results", _FIX_FORMAT)
        return rows, "results.results", version
    raise InputError(label, "results", "missing the 'results' object", _FIX_FORMAT)


def _is_error(result: dict[str, Any], label: str, where: str) -> bool:
    """Whether a result is a provider/run error rather than a graded answer.

    promptfoo writes ``error`` on *every* failed result, assertion failures included
    (``failureReason`` 1: the text says which assertion failed). Only ``failureReason`` 2 is
    an error. Version-2 files without ``failureReason`` count an ``error`` as one only when
    nothing was graded.
    """
    reason = result.get("failureReason")
    if reason is None:
        grading = result.get("gradingResult")
        graded = isinstance(grading, dict) and bool(grading.get("componentResults"))
        return bool(result.get("error")) and not graded
    if isinstance(reason, bool) or reason not in _FAILURE_REASONS:
        raise InputError(
            label,
            f"{where}.failureReason",
            f"unknown failure reason {reason!r} (this ddrisk knows 0 none, 1 assertion, 2 error)",
            "write the file with a promptfoo release whose format ddrisk supports, or upgrade ddrisk",
        )
    return bool(reason == 2)


def read_promptfoo(
    path: str | Path,
    *,
    layer_source: Literal["all", "guardrails", "assertions"] = "all",
    family_key: str | None = None,
    behavior_key: str | None = None,
    harmful_key: str | None = None,
    default_harmful: bool = True,
) -> OutcomeMatrix:
    """Read promptfoo JSON output into an outcome matrix (mapping in the module docstring).

    Parameters
    ----------
    path
        The JSON file from ``promptfoo eval -o``.
    layer_source
        Which verdicts become layers: provider guardrails, assertions, or both.
    family_key, behavior_key, harmful_key
        Keys looked up in ``testCase.metadata``, the result's ``metadata`` and ``vars``
        (dotted keys reach nested values); ``None`` means ``family``, ``behavior_id`` and
        ``harmful``, which may be absent. A key named here that no result carries is an
        :class:`~ddrisk.errors.InputError` (a typo would label every item alike).
    default_harmful
        The label of items that carry none.
    """
    path = check_file(path)
    text = read_text_file(path, what="promptfoo output", max_bytes=MAX_RESULT_BYTES)
    return parse_promptfoo(
        text,
        label=str(path),
        layer_source=layer_source,
        family_key=family_key,
        behavior_key=behavior_key,
        harmful_key=harmful_key,
        default_harmful=default_harmful,
    )


def parse_promptfoo(
    content: str | bytes,
    *,
    label: str = "<promptfoo output>",
    layer_source: Literal["all", "guardrails", "assertions"] = "all",
    family_key: str | None = None,
    behavior_key: str | None = None,
    harmful_key: str | None = None,
    default_harmful: bool = True,
) -> OutcomeMatrix:
    """:func:`read_promptfoo` for output already in memory (``label`` names it in errors)."""
    if layer_source not in ("all", "guardrails", "assertions"):
        raise InputError(
            "<options>",
            "layer_source",
            f"unknown choice {layer_source!r}",
            "use all, guardrails or assertions",
        )
    data = load_json(Path(label), content, label=label)
    rows, base, version = _results_list(data, label)
    providers = {_provider_name(r) for r in rows if isinstance(r, dict)}
    prompts: set[int | None] = set()
    for index, row in enumerate(rows):
        prompt_index = row.get("promptIdx") if isinstance(row, dict) else None
        if prompt_index is not None and (
            not isinstance(prompt_index, int) or isinstance(prompt_index, bool)
        ):
            raise InputError(label, f"{base}[{index}].promptIdx", "not an integer", _FIX_FORMAT)
        prompts.add(prompt_index)
    prefix_provider = len(providers) > 1
    builder = OutcomeBuilder(label)
    keys = LabelKeys(family_key=family_key, behavior_key=behavior_key, harmful_key=harmful_key)
    for index, result in enumerate(rows):
        where = f"{base}[{index}]"
        if not isinstance(result, dict):
            raise InputError(label, where, "expected a result object", _FIX_FORMAT)
        test_idx = result.get("testIdx")
        prompt_idx = result.get("promptIdx", 0)
        if not isinstance(test_idx, int):
            raise InputError(label, f"{where}.testIdx", "missing or not an integer", _FIX_FORMAT)
        item_id = f"test{test_idx}" + (f"-prompt{prompt_idx}" if len(prompts) > 1 else "")
        test_case = _mapping(result.get("testCase"))
        sources = [
            test_case.get("metadata"),
            result.get("metadata"),
            result.get("vars"),
            test_case.get("vars"),
        ]
        family = (
            keys.lookup("family_key", sources)
            or lookup(sources, "strategyId")
            or lookup(sources, "pluginId")
        )
        behavior = keys.lookup("behavior_key", sources)
        raw_label = keys.lookup("harmful_key", sources)
        harmful = default_harmful if raw_label is None else parse_label(raw_label)
        if harmful is None:
            raise InputError(
                label,
                f"{where}: {keys.keys['harmful_key']}",
                f"unrecognised harmful/benign label {raw_label!r}",
                "use true/false, harmful/benign or 1/0",
            )
        prompt = result.get("prompt")
        text = prompt.get("raw") if isinstance(prompt, dict) else None
        builder.add_item(
            item_id,
            family=str(family) if family is not None else "unspecified",
            behavior_id=str(behavior) if behavior is not None else item_id,
            harmful=harmful,
            text=text if isinstance(text, str) else None,
        )
        prefix = f"{_provider_name(result)}/" if prefix_provider else ""
        error = result.get("error")
        errored = _is_error(result, label, where)
        if errored:
            message = f"promptfoo error: {str(error or 'failureReason 2')[:200]}"
            builder.error_everywhere(item_id, message, layer_prefix=prefix)
        response = _mapping(result.get("response"))
        if layer_source in ("all", "guardrails"):
            guard = response.get("guardrails")
            layer = f"{prefix}guardrails"
            if guard is not None:
                if not isinstance(guard, dict):
                    raise InputError(
                        label,
                        f"{where}.response.guardrails",
                        "expected an object with 'flagged'",
                        _FIX_FORMAT,
                    )
                flagged = guard.get("flagged")
                if isinstance(flagged, bool):
                    builder.set(item_id, layer, blocked=flagged, where=where)
                else:
                    builder.set(
                        item_id,
                        layer,
                        blocked=None,
                        error="guardrails object without a boolean 'flagged'",
                        where=where,
                    )
        if layer_source in ("all", "assertions"):
            grading = result.get("gradingResult")
            if grading is None:
                continue
            if not isinstance(grading, dict):
                raise InputError(label, f"{where}.gradingResult", "expected an object", _FIX_FORMAT)
            components = grading.get("componentResults") or []
            if not isinstance(components, list):
                raise InputError(
                    label, f"{where}.gradingResult.componentResults", "expected a list", _FIX_FORMAT
                )
            seen: dict[str, int] = {}
            for c_index, component in enumerate(components):
                c_where = f"{where}.gradingResult.componentResults[{c_index}]"
                if not isinstance(component, dict):
                    raise InputError(label, c_where, "expected an object", _FIX_FORMAT)
                assertion = _mapping(component.get("assertion"))
                kind = assertion.get("type")
                if kind == "guardrails":
                    continue
                name = assertion.get("metric") or kind
                if not isinstance(name, str) or not name:
                    raise InputError(
                        label,
                        f"{c_where}.assertion",
                        "assertion without 'type' or 'metric'",
                        "keep promptfoo's componentResults intact",
                    )
                seen[name] = seen.get(name, 0) + 1
                if seen[name] > 1:
                    name = f"{name}#{seen[name]}"
                passed = component.get("pass")
                score = component.get("score")
                score = (
                    float(score)
                    if isinstance(score, int | float) and not isinstance(score, bool)
                    else None
                )
                if errored:
                    builder.set(
                        item_id,
                        prefix + name,
                        blocked=None,
                        error=f"promptfoo error: {str(error)[:200]}",
                        where=c_where,
                    )
                elif not isinstance(passed, bool):
                    raise InputError(
                        label,
                        f"{c_where}.pass",
                        f"expected true or false, got {passed!r}",
                        "keep promptfoo's componentResults intact",
                    )
                else:
                    blocked = passed if harmful else not passed
                    builder.set(item_id, prefix + name, blocked=blocked, score=score, where=c_where)
    eval_id = data.get("evalId")
    metadata = {
        "format": "promptfoo",
        "file": label,
        "run_id": f"promptfoo-{eval_id}" if eval_id else None,
        "output_version": version,
        "providers": sorted(providers),
        "layer_source": layer_source,
    }
    keys.check(label, f"{base}[*] testCase.metadata, metadata, vars", records="result")
    return builder.build(
        metadata=metadata,
        where_empty="no guardrail verdicts or assertion results found",
        fix_empty="add assertions (or a provider returning guardrails) to the promptfoo tests",
    )
