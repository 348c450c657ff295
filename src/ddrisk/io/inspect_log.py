"""Import inspect_ai eval logs (``.json`` or ``.eval``) as an outcome matrix.

inspect_ai need not be installed: a ``.json`` log is read as JSON, and a ``.eval`` log
(inspect's default) is a zip archive whose ``samples/<id>_epoch_<n>.json`` members are
read one by one, zstd-compressed or deflated, within decompressed-size limits
(:mod:`ddrisk.io._archive`); ``header.json`` (or ``_journal/start.json`` while a run is
still going) supplies the eval spec. The log's ``version`` must be one of
:data:`SUPPORTED_INSPECT_VERSIONS`.

Mapping to :class:`~ddrisk.stress.matrix.OutcomeMatrix`
-------------------------------------------------------
* **Item** = one sample in one epoch (``<id>`` or ``<id>#e<epoch>`` when there are several
  epochs). Its ``behavior_id`` defaults to the sample id, so repeated epochs of one sample
  form one bootstrap cluster.
* **Layer** = one scorer (``samples[].scores`` is keyed by scorer name); a scorer whose
  value is a dict contributes one layer per key, named ``<scorer>/<key>``.
* **Value -> verdict.** Values are read as inspect does: ``C`` = 1, ``I`` = 0, ``P`` = 0.5,
  ``N`` = 0, booleans, numbers, numeric strings, ``yes``/``no``/``true``/``false``. A
  value at or above ``threshold`` *passes*; for scorers listed in ``invert`` (for example
  a harmfulness judge, where high means the attack succeeded) the sense flips. Then:

  - ``score_means="correct"`` (default, inspect's usual C/I convention): a passing score
    means the behaviour was right, so a non-passing score is a layer failure: on a harmful
    item ``blocked = pass``; on a benign item ``blocked = not pass``;
  - ``score_means="blocked"``: a passing score means the layer blocked or refused,
    whatever the label (refusal scorers run on both harmful and benign samples).

  Any other value (an unknown string, a list, ``None``) is an error, never a pass.
* **Errors and skipped scores.** A sample with an ``error`` (inspect run with
  ``--no-fail-on-error``) keeps the scores inspect recorded before the error (inspect's
  own metrics count them too); every other layer is an error for it. A scorer that gave
  no score on a sample without an error (it returned ``None``) is *skipped* there.
  Neither is ever a pass or a block.
* Labels: ``family``, ``behavior_id`` and ``harmful`` come from ``samples[].metadata``
  (keys configurable; dotted keys reach nested values); without a label every sample
  counts as ``default_harmful``.
"""

from __future__ import annotations

import io
import math
import zipfile
from collections.abc import Collection, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Literal

from ddrisk.errors import InputError
from ddrisk.io._archive import BoundedZip
from ddrisk.io._outcome_records import (
    LabelKeys,
    OutcomeBuilder,
    check_file,
    check_threshold,
    load_json,
    parse_label,
    unsupported_version,
)
from ddrisk.io.documents import read_text_file
from ddrisk.stress.matrix import OutcomeMatrix

SUPPORTED_INSPECT_VERSIONS = (2,)
"""inspect_ai log format versions read (the ``version`` field of the log or its header);
written by inspect_ai 0.3.x, checked on logs of inspect_ai 0.3.285."""
MAX_LOG_BYTES = 256 * 1024 * 1024
"""Largest ``.json`` log read (256 MiB); ``.eval`` members have their own limits."""
SKIPPED = "skipped: the scorer gave no score for this sample"

_FIX_FORMAT = "pass an inspect_ai log (.json, or .eval written with samples)"
_LETTERS = {"C": 1.0, "I": 0.0, "P": 0.5, "N": 0.0}
_WORDS = {"yes": 1.0, "true": 1.0, "no": 0.0, "false": 0.0}


def score_value_to_float(value: Any) -> float | None:
    """inspect's value-to-float reading of a score; ``None`` when it has no numeric meaning.

    >>> [score_value_to_float(v) for v in ("C", "I", "P", True, 0.25, "0.7", "maybe")]
    [1.0, 0.0, 0.5, 1.0, 0.25, 0.7, None]
    """
    if isinstance(value, bool):
        return float(value)
    if isinstance(value, int | float):
        return float(value) if math.isfinite(value) else None
    if isinstance(value, str):
        text = value.strip()
        if text in _LETTERS:
            return _LETTERS[text]
        if text.lower() in _WORDS:
            return _WORDS[text.lower()]
        try:
            number = float(text)
        except ValueError:
            return None
        return number if math.isfinite(number) else None
    return None


def _input_text(value: Any) -> str | None:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        for message in reversed(value):
            if isinstance(message, dict) and message.get("role", "user") == "user":
                content = message.get("content")
                if isinstance(content, str):
                    return content
                if isinstance(content, list):
                    parts = [c.get("text") for c in content if isinstance(c, dict)]
                    return " ".join(p for p in parts if isinstance(p, str)) or None
    return None


def _check_version(header: dict[str, Any], label: str, where: str) -> None:
    version = header.get("version")
    if version not in SUPPORTED_INSPECT_VERSIONS:
        raise unsupported_version(
            label, where, version, SUPPORTED_INSPECT_VERSIONS, tool="inspect_ai", kind="log format"
        )


def _eval_samples(
    handle: BinaryIO, label: str
) -> tuple[Iterator[tuple[str, str, Any]], dict[str, Any]]:
    """Samples and header of a ``.eval`` archive (zip; members stored, deflated or zstd)."""
    archive = BoundedZip(handle, label=label)
    names = archive.names()
    header: dict[str, Any] = {}
    for name in ("header.json", "_journal/start.json"):
        if name in names:
            data = load_json(Path(label), archive.read(name), label=f"{label}!{name}")
            if not isinstance(data, dict):
                raise InputError(
                    f"{label}!{name}", "top level", "expected a JSON object", _FIX_FORMAT
                )
            header = data
            _check_version(header, f"{label}!{name}", "version")
            break
    else:
        raise InputError(
            label,
            "header.json",
            "the .eval archive has neither header.json nor _journal/start.json",
            _FIX_FORMAT,
        )
    members = sorted(n for n in names if n.startswith("samples/") and n.endswith(".json"))
    if not members:
        raise InputError(
            label,
            "samples/",
            "the .eval archive holds no sample files",
            "rerun inspect without --no-log-samples",
        )

    def from_zip() -> Iterator[tuple[str, str, Any]]:
        for name in members:
            member = f"{label}!{name}"
            yield member, "sample", load_json(Path(label), archive.read(name), label=member)

    return from_zip(), header


def _json_samples(data: Any, label: str) -> tuple[Iterator[tuple[str, str, Any]], dict[str, Any]]:
    if not isinstance(data, dict):
        raise InputError(
            label, "top level", "expected a JSON object (an inspect EvalLog)", _FIX_FORMAT
        )
    _check_version(data, label, "version")
    samples = data.get("samples")
    if not isinstance(samples, list) or not samples:
        raise InputError(
            label,
            "samples",
            "the log has no samples",
            "rerun inspect with sample logging on (not --no-log-samples)",
        )

    def from_json() -> Iterator[tuple[str, str, Any]]:
        for index, sample in enumerate(samples):
            yield label, f"samples[{index}]", sample

    return from_json(), data


def _looks_like_zip(path: Path) -> bool:
    """A zip by its directory, or by its first bytes (a truncated .eval has lost its directory)."""
    try:
        with path.open("rb") as handle:
            magic = handle.read(4)
    except OSError as exc:
        raise InputError(str(path), None, f"cannot be read ({exc})", "check the path") from None
    return magic == b"PK\x03\x04" or zipfile.is_zipfile(path)


def read_inspect(
    path: str | Path,
    *,
    threshold: float = 0.5,
    score_means: Literal["correct", "blocked"] = "correct",
    invert: Collection[str] = (),
    family_key: str | None = None,
    behavior_key: str | None = None,
    harmful_key: str | None = None,
    default_harmful: bool = True,
) -> OutcomeMatrix:
    """Read an inspect_ai ``.json`` or ``.eval`` log into an outcome matrix.

    Parameters
    ----------
    path
        The log file.
    threshold
        Score (after inspect's value-to-float reading) at or above which a scorer passes.
    score_means
        ``"correct"``: passing = right behaviour (failure = not passing). ``"blocked"``:
        passing = the layer blocked/refused, for harmful and benign samples alike.
    invert
        Scorer (or ``scorer/key``) names whose high values mean the attack succeeded.
    family_key, behavior_key, harmful_key, default_harmful
        Where the labels are in ``samples[].metadata``, and the label of unlabelled samples.
        ``None`` keys mean ``family``, ``behavior_id`` and ``harmful``, which may be absent; a
        key named here that no sample carries is an :class:`~ddrisk.errors.InputError`.
    """
    options = _Options(
        threshold,
        score_means,
        frozenset(invert),
        family_key,
        behavior_key,
        harmful_key,
        default_harmful,
    )
    path = check_file(path)
    label = str(path)
    if _looks_like_zip(path):
        try:
            with path.open("rb") as handle:
                samples, header = _eval_samples(handle, label)
                return _build(samples, header, label, options)
        except OSError as exc:
            raise InputError(label, None, f"cannot be read ({exc})", "check the path") from None
    data = load_json(path, read_text_file(path, what="inspect log", max_bytes=MAX_LOG_BYTES))
    return _build(*_json_samples(data, label), label, options)


def parse_inspect(
    content: str | bytes,
    *,
    label: str = "<inspect log>",
    threshold: float = 0.5,
    score_means: Literal["correct", "blocked"] = "correct",
    invert: Collection[str] = (),
    family_key: str | None = None,
    behavior_key: str | None = None,
    harmful_key: str | None = None,
    default_harmful: bool = True,
) -> OutcomeMatrix:
    """:func:`read_inspect` for a log already in memory: ``.eval`` bytes or JSON text."""
    options = _Options(
        threshold,
        score_means,
        frozenset(invert),
        family_key,
        behavior_key,
        harmful_key,
        default_harmful,
    )
    if isinstance(content, bytes) and content[:4] == b"PK\x03\x04":
        return _build(*_eval_samples(io.BytesIO(content), label), label, options)
    data = load_json(Path(label), content, label=label)
    return _build(*_json_samples(data, label), label, options)


@dataclass(frozen=True)
class _Options:
    threshold: float
    score_means: str
    invert: frozenset[str]
    family_key: str | None
    behavior_key: str | None
    harmful_key: str | None
    default_harmful: bool

    def __post_init__(self) -> None:
        check_threshold(self.threshold)


def _error_text(error: Any) -> str:
    message = error.get("message") if isinstance(error, dict) else error
    return f"sample error: {str(message)[:200]}"


def _build(
    samples: Iterator[tuple[str, str, Any]],
    header: dict[str, Any],
    source: str,
    options: _Options,
) -> OutcomeMatrix:
    if options.score_means not in ("correct", "blocked"):
        raise InputError(
            "<options>",
            "score_means",
            f"unknown choice {options.score_means!r}",
            "use correct or blocked",
        )
    spec = header.get("eval")
    eval_spec: dict[str, Any] = spec if isinstance(spec, dict) else {}
    builder = OutcomeBuilder(source)
    keys = LabelKeys(
        family_key=options.family_key,
        behavior_key=options.behavior_key,
        harmful_key=options.harmful_key,
    )
    epochs_seen: set[Any] = set()
    rows: list[tuple[str, str, dict[str, Any]]] = []
    for label, where, sample in samples:
        if not isinstance(sample, dict):
            raise InputError(label, where, "expected a sample object", _FIX_FORMAT)
        if "id" not in sample:
            raise InputError(label, f"{where}.id", "sample without an id", _FIX_FORMAT)
        epoch = sample.get("epoch", 1)
        if not isinstance(epoch, int) or isinstance(epoch, bool):
            raise InputError(label, f"{where}.epoch", "not an integer", _FIX_FORMAT)
        epochs_seen.add(epoch)
        rows.append((label, where, sample))
    several_epochs = len(epochs_seen) > 1
    unscored: list[str] = []
    for label, where, sample in rows:
        sample_id = str(sample["id"])
        epoch = sample.get("epoch", 1)
        item_id = f"{sample_id}#e{epoch}" if several_epochs else sample_id
        metadata = sample.get("metadata") if isinstance(sample.get("metadata"), dict) else {}
        raw_label = keys.lookup("harmful_key", [metadata])
        harmful = options.default_harmful if raw_label is None else parse_label(raw_label)
        if harmful is None:
            raise InputError(
                label,
                f"{where}.metadata.{keys.keys['harmful_key']}",
                f"unrecognised harmful/benign label {raw_label!r}",
                "use true/false, harmful/benign or 1/0",
            )
        family = keys.lookup("family_key", [metadata])
        behavior = keys.lookup("behavior_key", [metadata])
        builder.add_item(
            item_id,
            family=str(family) if family is not None else "unspecified",
            behavior_id=str(behavior) if behavior is not None else sample_id,
            harmful=harmful,
            text=_input_text(sample.get("input")),
        )
        scores = sample.get("scores")
        if scores is None:
            scores = {}
        if not isinstance(scores, dict):
            raise InputError(
                label, f"{where}.scores", "expected an object keyed by scorer", _FIX_FORMAT
            )
        for scorer, score in scores.items():
            _score_cells(builder, item_id, harmful, scorer, score, label, where, options)
        error = sample.get("error")
        if error:
            # the scores inspect did record on this sample are verdicts (inspect counts them
            # too); every other layer gets the sample's error
            builder.error_everywhere(item_id, _error_text(error))
        else:
            unscored.append(item_id)
    for item_id in unscored:
        builder.error_everywhere(item_id, SKIPPED)
    raw_packages = eval_spec.get("packages")
    packages: dict[str, Any] = raw_packages if isinstance(raw_packages, dict) else {}
    matrix_meta = {
        "format": "inspect",
        "file": source,
        "run_id": f"inspect-{eval_spec['run_id']}" if eval_spec.get("run_id") else None,
        "task": eval_spec.get("task"),
        "model": eval_spec.get("model"),
        "status": header.get("status"),
        "log_version": header.get("version"),
        "inspect_ai_version": packages.get("inspect_ai"),
        "threshold": options.threshold,
        "score_means": options.score_means,
        "invert": sorted(options.invert),
    }
    keys.check(source, "samples[*].metadata", records="sample")
    return builder.build(
        metadata=matrix_meta,
        where_empty="no scores found in the samples",
        fix_empty="score the samples (inspect score LOG) before importing",
    )


def _score_cells(
    builder: OutcomeBuilder,
    item_id: str,
    harmful: bool,
    scorer: str,
    score: Any,
    label: str,
    where: str,
    options: _Options,
) -> None:
    """One cell per scorer (or per key of a dict-valued scorer)."""
    if not isinstance(score, dict) or "value" not in score:
        raise InputError(
            label,
            f"{where}.scores.{scorer}",
            "expected a Score object with 'value'",
            _FIX_FORMAT,
        )
    value = score["value"]
    parts = value.items() if isinstance(value, dict) else [(None, value)]
    for key, part in parts:
        layer = scorer if key is None else f"{scorer}/{key}"
        number = score_value_to_float(part)
        if number is None:
            builder.set(
                item_id,
                layer,
                blocked=None,
                error=f"unreadable score value {part!r}",
                where=f"{where}.scores.{scorer}",
            )
            continue
        passed = number >= options.threshold
        if layer in options.invert or scorer in options.invert:
            passed = not passed
        # "correct": a failing score is a layer failure, i.e. a miss on a harmful
        # item and a false block on a benign one.
        blocked = passed if (options.score_means == "blocked" or harmful) else not passed
        builder.set(item_id, layer, blocked=blocked, score=number, where=f"{where}.scores.{scorer}")
