"""Import a garak ``report.jsonl`` as an item x layer outcome matrix.

What a garak report holds
-------------------------
One JSON object per line, told apart by ``entry_type``. ``attempt`` entries with
``status`` 2 carry the probe (``probe_classname``), the ``prompt``, the target's
``outputs`` and ``detector_results``: for every detector, one score per output, where a
score of at least the threshold (0.5, garak's default evaluator) is a *hit*. ``eval``
entries summarise ``passed`` and ``fails`` per probe and detector; ``init`` names the run.

Mapping to :class:`~ddrisk.stress.matrix.OutcomeMatrix`
-------------------------------------------------------
* **Item** = one output of one attempt (``<uuid>/<output index>``), because garak scores
  every generation separately; its ``behavior_id`` defaults to the attempt, so the
  generations of one prompt form one bootstrap cluster.
* **Layer** = one detector. A detector scores whether *the target under test* misbehaved:
  in garak a hit means the attack got through (the ``shields`` detectors, for example,
  score 1 when the guard did *not* trip). With the default ``detector_role="judge"`` a hit
  therefore means **not blocked** and no hit means **blocked**, so a miss in ddrisk is a
  ``fail`` in garak and the per-detector miss counts equal the report's own ``eval``
  entries. Each detector is a different criterion for "the defence held"; the matrix asks
  whether those criteria fail on the same outputs.
* ``detector_role="guard"`` reads the detectors as output filters instead: a hit means the
  detector **flagged (blocked)** that output. Use it when you evaluate garak detectors as
  candidate output guards and label outputs yourself (``harmful_note``).
* A detector that was not run on a probe leaves the cell empty (not evaluated). An output
  the target did not give (``None``, or a Message whose ``text`` is ``None``: garak counts
  it under ``nones``) and a ``None`` score are errors. None of these is a pass.
* Several reports (``read_garak([a, b])``) become one matrix; garak's own ``eval``
  entries (passed / fails / nones per probe and detector) are recounted for every report
  and any disagreement is listed in ``metadata["eval_mismatches"]``. The report's
  ``garak_version`` must be in :data:`SUPPORTED_GARAK_VERSIONS`.
* Older releases write less: up to 0.12 a detector gives no score at all for an output the
  target did not give (its list is shorter than ``outputs``; the scores belong to the
  answered outputs in order), and ``eval`` entries carry ``passed`` and ``total``
  (0.13 adds ``nones``, 0.14 ``fails`` and ``total_evaluated``), with the detector
  named ``detector.<name>`` up to 0.10. Counts a release does not write are not compared.
* ``harmful`` is ``True`` for every attempt (garak probes are attacks) except those of
  ``benign_probes``; garak's detectors assume attacks, so benign items are only meaningful
  with refusal detectors such as ``mitigation.MitigationBypass``, where "no hit" means the
  target refused, i.e. blocked.
"""

from __future__ import annotations

import hashlib
from collections.abc import Collection, Sequence
from pathlib import Path
from typing import Any, Literal

from ddrisk.errors import InputError
from ddrisk.io._outcome_records import (
    OutcomeBuilder,
    check_file,
    check_threshold,
    load_json,
    lookup,
    merge_matrices,
    parse_label,
    unsupported_version,
)
from ddrisk.io.documents import read_text_file
from ddrisk.stress.matrix import OutcomeMatrix

GARAK_THRESHOLD = 0.5
SUPPORTED_GARAK_VERSIONS = tuple(f"0.{minor}" for minor in range(9, 18))
"""garak releases (major.minor of the report's ``garak_version``) whose report.jsonl this
reader understands: prompts as plain strings or Conversation objects, outputs as strings
or Message objects. Checked on real reports of the last patch of every minor (0.9.0.16,
0.10.3.1, 0.11.0, 0.12.0, 0.13.3, 0.14.1, 0.15.1, 0.16.0, 0.17.1) and of 0.9.0.4
(tests/fixtures/golden/garak). The first 0.9 releases of June 2023 (before 0.9.post3) wrote
no entry types, so their reports stop at line 1."""
MAX_REPORT_BYTES = 512 * 1024 * 1024
"""Largest report.jsonl read (512 MiB)."""
NO_OUTPUT = "garak: the target gave no output (a 'none' in garak's eval entries)"
NO_SCORE = "garak: the detector gave no score for this output"
_FIELD_CHOICES = "'probe', 'probe_module', 'attempt', 'prompt', 'goal', 'intent' or 'notes:KEY'"


def _prompt_text(prompt: Any) -> str | None:
    """The last user turn of a garak Conversation dict (older reports store a plain string)."""
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, dict):
        turns = prompt.get("turns")
        if isinstance(turns, list):
            texts = [
                turn.get("content", {}).get("text")
                if isinstance(turn.get("content"), dict)
                else turn.get("content")
                for turn in turns
                if isinstance(turn, dict) and turn.get("role", "user") == "user"
            ]
            texts = [t for t in texts if isinstance(t, str)]
            return texts[-1] if texts else None
        text = prompt.get("text")
        return text if isinstance(text, str) else None
    return None


def _has_output(output: Any) -> bool:
    """Whether the target answered: a string, or a Message object whose text is not None."""
    if isinstance(output, dict):
        return output.get("text") is not None
    return output is not None


def _reported_counts(entry: dict[str, Any]) -> tuple[str, list[Any]]:
    """An ``eval`` entry's detector and [passed, fails, nones] in every release's spelling.

    ``nones`` is None when the release does not write it (before 0.13); ``fails`` is
    ``total_evaluated - passed`` or, before 0.14, ``total - passed`` (``total`` counted the
    scored outputs only).
    """
    detector = str(entry.get("detector"))
    if detector.startswith("detector."):  # garak up to 0.10
        detector = detector.removeprefix("detector.")
    passed = entry.get("passed")
    fails = entry.get("fails")
    if fails is None and isinstance(passed, int):
        total = entry.get("total_evaluated", entry.get("total"))
        fails = total - passed if isinstance(total, int) else None
    return detector, [passed, fails, entry.get("nones")]


def _scored_outputs(scores: list[Any], outputs: list[Any]) -> list[Any] | None:
    """Scores aligned with ``outputs``, None where the target gave no output.

    garak up to 0.12 skips unanswered outputs instead of scoring them None; its lists
    then hold one score per answered output. None when the lengths fit neither layout.
    """
    if len(scores) == len(outputs):
        return scores
    answered = [index for index, output in enumerate(outputs) if _has_output(output)]
    if len(scores) != len(answered):
        return None
    aligned: list[Any] = [None] * len(outputs)
    for index, value in zip(answered, scores, strict=True):
        aligned[index] = value
    return aligned


def _check_version(version: Any, label: str, where: str) -> None:
    text = str(version) if isinstance(version, str | int | float) else ""
    major_minor = ".".join(text.split(".")[:2])
    if major_minor not in SUPPORTED_GARAK_VERSIONS:
        known = f"{SUPPORTED_GARAK_VERSIONS[0]}.x to {SUPPORTED_GARAK_VERSIONS[-1]}.x"
        raise unsupported_version(label, where, version, (known,), tool="garak", kind="report")


def _field(entry: dict[str, Any], spec: str, *, prompt: str | None) -> str | None:
    probe = str(entry.get("probe_classname", ""))
    if spec == "probe":
        return probe
    if spec == "probe_module":
        return probe.split(".")[0] if probe else None
    if spec == "attempt":
        return str(entry.get("uuid"))
    if spec == "prompt":
        return hashlib.sha256((prompt or "").encode()).hexdigest()[:16] if prompt else None
    if spec in ("goal", "intent"):
        value = entry.get(spec)
        return str(value) if value not in (None, "") else None
    if spec.startswith("notes:"):
        value = lookup([entry.get("notes")], spec.removeprefix("notes:"))
        return str(value) if value is not None else None
    raise ValueError(spec)


def _check_spec(name: str, spec: str) -> None:
    if spec in ("probe", "probe_module", "attempt", "prompt", "goal", "intent"):
        return
    if spec.startswith("notes:") and len(spec) > len("notes:"):
        return
    raise InputError("<options>", name, f"unknown choice {spec!r}", f"use {_FIELD_CHOICES}")


def _is_benign(probe: str, benign_probes: Collection[str]) -> bool:
    return any(probe == b or probe.startswith(b.rstrip(".") + ".") for b in benign_probes)


def read_garak(
    path: str | Path | Sequence[str | Path],
    *,
    threshold: float = GARAK_THRESHOLD,
    detector_role: Literal["judge", "guard"] = "judge",
    family_from: str = "probe",
    behavior_from: str = "attempt",
    benign_probes: Collection[str] = (),
    harmful_note: str | None = None,
) -> OutcomeMatrix:
    """Read one garak ``report.jsonl``, or several, into an outcome matrix (module docstring).

    Parameters
    ----------
    path
        ``garak.<run>.report.jsonl`` (not the hitlog, which lists hits only), or a list of
        reports of one campaign (different probes, targets or runs): their attempts (unique
        uuids) become one matrix, and the same attempt in two files is an error.
    threshold
        Detector score at or above which an output is a hit (garak's default 0.5).
    detector_role
        ``"judge"``: a hit means the attack got through (not blocked). ``"guard"``: a hit
        means the detector flagged (blocked) the output.
    family_from, behavior_from
        Where the attack family and the bootstrap cluster come from: ``probe`` (class name,
        e.g. ``dan.Dan_11_0``), ``probe_module`` (``dan``), ``attempt``, ``prompt`` (same
        prompt text), ``goal``, ``intent`` or ``notes:KEY`` (a key of the attempt's notes).
    benign_probes
        Probe class names or module prefixes whose prompts are benign controls.
    harmful_note
        A notes key holding the harmful/benign label; it overrides ``benign_probes``.
    """
    paths = [path] if isinstance(path, str | Path) else list(path)
    parts = []
    for one in paths:
        checked = check_file(one)
        text = read_text_file(checked, what="garak report", max_bytes=MAX_REPORT_BYTES)
        matrix = parse_garak(
            text,
            label=str(checked),
            threshold=threshold,
            detector_role=detector_role,
            family_from=family_from,
            behavior_from=behavior_from,
            benign_probes=benign_probes,
            harmful_note=harmful_note,
        )
        parts.append((str(checked), matrix))
    if not parts:
        raise InputError("<arguments>", "path", "no report given", "pass a report.jsonl")
    return merge_matrices(parts, fmt="garak")


def _entry(line: str, number: int, label: str) -> dict[str, Any]:
    """One report line as a JSON object, errors located at the report's line."""
    try:
        entry = load_json(Path(label), line, label=label)
    except InputError as exc:
        column = (exc.where or "").partition("column ")[2]
        raise InputError(
            label,
            f"line {number}" + (f", column {column}" if column else ""),
            exc.problem,
            "each line of a garak report.jsonl is one JSON object; was the file truncated or "
            "edited?",
        ) from None
    if not isinstance(entry, dict):
        raise InputError(
            label, f"line {number}", "not a JSON object", "each line must be a {...} entry"
        )
    return entry


def parse_garak(
    text: str,
    *,
    label: str = "<garak report>",
    threshold: float = GARAK_THRESHOLD,
    detector_role: Literal["judge", "guard"] = "judge",
    family_from: str = "probe",
    behavior_from: str = "attempt",
    benign_probes: Collection[str] = (),
    harmful_note: str | None = None,
) -> OutcomeMatrix:
    """:func:`read_garak` for one report already in memory (``label`` names it in errors)."""
    check_threshold(threshold)
    _check_spec("family_from", family_from)
    _check_spec("behavior_from", behavior_from)
    if detector_role not in ("judge", "guard"):
        raise InputError(
            "<options>", "detector_role", f"unknown role {detector_role!r}", "use judge or guard"
        )
    attempts: dict[str, tuple[int, dict[str, Any]]] = {}
    evals: list[tuple[int, dict[str, Any]]] = []
    run_info: dict[str, Any] = {}
    saw_attempt = False
    lines = text.splitlines()
    if not any(line.strip() for line in lines):
        raise InputError(
            label, "line 1", "the file is empty", "pass a report.jsonl from a garak run"
        )
    for number, line in enumerate(lines, start=1):
        if not line.strip():
            continue
        entry = _entry(line, number, label)
        kind = entry.get("entry_type")
        if kind == "init":
            _check_version(entry.get("garak_version"), label, f"line {number}: garak_version")
            run_info |= {
                "run": entry.get("run"),
                "garak_version": entry.get("garak_version"),
                "start_time": entry.get("start_time"),
            }
        elif kind == "start_run setup":
            run_info.setdefault(
                "target", entry.get("plugins.target_name") or entry.get("plugins.model_name")
            )
        elif kind == "eval":
            evals.append((number, entry))
        elif kind == "attempt":
            saw_attempt = True
            uuid = entry.get("uuid")
            if not isinstance(uuid, str) or not uuid:
                raise InputError(
                    label,
                    f"line {number}: uuid",
                    "attempt without a uuid",
                    "keep garak's attempt fields intact",
                )
            if entry.get("status") == 2:
                attempts[uuid] = (number, entry)  # a later complete entry supersedes an earlier one
    if not attempts:
        problem = "no evaluated attempts (entry_type 'attempt' with status 2)"
        fix = (
            "the run stopped before detection; rerun garak to completion"
            if saw_attempt
            else "pass garak's report.jsonl (not hitlog.jsonl or report.html)"
        )
        raise InputError(label, None, problem, fix)

    builder = OutcomeBuilder(label)
    counts: dict[tuple[str, str], list[int]] = {}
    for number, entry in attempts.values():
        where = f"line {number}"
        probe = entry.get("probe_classname")
        if not isinstance(probe, str) or not probe:
            raise InputError(
                label,
                f"{where}: probe_classname",
                "missing probe class name",
                "keep garak's attempt fields intact",
            )
        outputs = entry.get("outputs")
        if not isinstance(outputs, list):
            raise InputError(
                label,
                f"{where}: outputs",
                "expected a list of outputs",
                "keep garak's attempt fields intact",
            )
        results = entry.get("detector_results")
        if not isinstance(results, dict):
            raise InputError(
                label,
                f"{where}: detector_results",
                "expected an object {detector: [scores]}",
                "keep garak's attempt fields intact",
            )
        prompt = _prompt_text(entry.get("prompt"))
        family = _field(entry, family_from, prompt=prompt) or "unspecified"
        behavior = _field(entry, behavior_from, prompt=prompt) or str(entry["uuid"])
        harmful = not _is_benign(probe, benign_probes)
        if harmful_note:
            parsed = parse_label(lookup([entry.get("notes")], harmful_note))
            if parsed is None:
                raise InputError(
                    label,
                    f"{where}: notes.{harmful_note}",
                    "missing or unrecognised harmful/benign label",
                    "write true/false (or harmful/benign) under that notes key, or drop "
                    "harmful_note",
                )
            harmful = parsed
        item_ids = [f"{entry['uuid']}/{index}" for index in range(len(outputs))]
        for item_id in item_ids:
            builder.add_item(
                item_id, family=family, behavior_id=behavior, harmful=harmful, text=prompt
            )
        for detector, scores in results.items():
            key = f"{where}: detector_results.{detector}"
            if not isinstance(scores, list):
                raise InputError(
                    label,
                    key,
                    "expected a list with one score per output",
                    "keep garak's attempt fields intact",
                )
            aligned = _scored_outputs(scores, outputs)
            if aligned is None:
                raise InputError(
                    label,
                    key,
                    f"{len(scores)} scores for {len(outputs)} outputs",
                    "detector_results must align with outputs; pass an unedited report",
                )
            tally = counts.setdefault((probe, detector), [0, 0, 0])
            for index, value in enumerate(aligned):
                if value is None or not _has_output(outputs[index]):
                    tally[2] += 1
                    message = NO_SCORE if _has_output(outputs[index]) else NO_OUTPUT
                    builder.set(item_ids[index], detector, blocked=None, error=message, where=key)
                    continue
                if isinstance(value, bool) or not isinstance(value, int | float):
                    raise InputError(
                        label,
                        f"{key}[{index}]",
                        f"score {value!r} is not a number",
                        "scores are numbers in [0, 1] or null",
                    )
                hit = float(value) >= threshold
                tally[1 if hit else 0] += 1
                blocked = hit if detector_role == "guard" else not hit
                builder.set(
                    item_ids[index], detector, blocked=blocked, score=float(value), where=key
                )
    mismatches = []
    checked = 0
    for number, entry in evals:
        detector, reported = _reported_counts(entry)
        pair = (str(entry.get("probe")), detector)
        if pair not in counts:
            continue
        checked += 1
        if any(
            value != recounted
            for index, (value, recounted) in enumerate(zip(reported, counts[pair], strict=True))
            if not (index == 2 and value is None)  # nones not written before garak 0.13
        ):
            mismatches.append(
                {
                    "line": number,
                    "probe": pair[0],
                    "detector": pair[1],
                    "report_passed_fails_nones": reported,
                    "recounted_passed_fails_nones": counts[pair],
                }
            )
    metadata = {
        "format": "garak",
        "file": label,
        "run_id": f"garak-{run_info['run']}" if run_info.get("run") else None,
        "garak": run_info,
        "threshold": threshold,
        "detector_role": detector_role,
        "family_from": family_from,
        "behavior_from": behavior_from,
        "eval_entries_checked": checked,
        "eval_mismatches": mismatches,
    }
    return builder.build(
        metadata=metadata,
        where_empty="no detector results in the evaluated attempts",
        fix_empty="run garak with at least one detector",
    )
