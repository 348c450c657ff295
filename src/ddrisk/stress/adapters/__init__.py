"""Generic adapters that turn a user's safety layer into a :class:`~ddrisk.stress.layer.Layer`.

One entry of a layers file becomes one layer; ``kind`` picks the adapter:

``python``
    a function or batch object in an importable module
    (:mod:`ddrisk.stress.adapters.python_callable`);
``shell``
    a long-lived program speaking JSONL on stdin/stdout
    (:mod:`ddrisk.stress.adapters.shell`);
``http``
    a guard model or LLM judge behind an OpenAI-compatible chat-completions API
    (:mod:`ddrisk.stress.adapters.http`).

Keys (``name`` and ``kind`` always; ``description``, ``version`` and ``data_files``
everywhere; unknown keys are errors):

* ``version``: free text folded into the layer's configuration, hence into the
  verdict cache key. Bump it (``version: "2"``) whenever something ddrisk cannot see
  changes the verdicts: a retrained model behind a URL, a rule edited inside a
  service, a new prompt on the server side. Cached verdicts of other versions are
  then never served.
* ``data_files``: files (relative to the layers file's folder) whose content decides
  verdicts, such as a word list, weights or a threshold file read by a python or
  shell layer. Their full SHA-256 (``hashlib.file_digest``) enters the configuration
  on every run, so editing one invalidates that layer's cached verdicts; a missing
  one is an error naming the entry. (The python adapter also hashes the target
  module's own file, and the shell adapter its script arguments.)
* Secrets: adapters never store a key. A layer's ``secrets()`` values (the http
  adapter's API key, the shell adapter's ``pass_env`` values) are scrubbed, whole
  and in pieces of 6 or more characters, from every error, detail and log line
  before any text is cut short.

* ``python``: ``target`` (``module:attribute``), ``batch``, ``method`` (default
  ``check``), ``init`` (class keyword arguments), ``threshold`` (0.5),
  ``batch_size`` (64), ``python_path`` (folders, relative to the layers file);
* ``shell``: ``command`` (string or list, no shell), ``cwd`` (default: the layers
  file's folder), ``env``, ``pass_env`` (names whose values are copied but never
  recorded), ``inherit_env`` (true), ``timeout_s`` (30), ``startup_timeout_s`` (30),
  ``restart`` (``never`` | ``on-failure``), ``max_restarts`` (3), ``max_in_flight``
  (1), ``threshold``, ``close_timeout_s`` (5);
* ``http``: ``preset`` (``llama-guard-3`` | ``shieldgemma`` | ``judge``),
  ``base_url`` (ending in ``/v1``), ``model``, ``api_key_env``, ``api_key_header``,
  ``headers``, ``timeout_s`` (60), ``max_attempts`` (4), ``backoff_base_s`` (0.5),
  ``backoff_max_s`` (30), ``max_concurrency`` (4), ``max_tokens``, ``logprobs``,
  ``top_logprobs`` (5), ``threshold``, ``assistant_user_turn``, ``guidelines``,
  ``prompt_template``, ``system_prompt``, ``verdict_regex``, ``blocked_values``,
  ``allowed_values``, ``extra_body``, ``probe`` (true).

Each module exposes ``from_spec(spec, *, source, where=None)``; :func:`layer_from_spec`
dispatches on ``kind``. ``source`` is the layers file (used in error messages and to
resolve relative paths); ``where`` is the key path of the entry inside it, such as
``"layers[2]"`` (default ``layer 'NAME'``).
"""

from __future__ import annotations

import importlib
from collections.abc import Callable
from typing import Any

from ddrisk.errors import InputError
from ddrisk.stress.adapters._common import spec_where
from ddrisk.stress.layer import Layer

#: Adapter kind -> module exposing ``from_spec``. Modules load on first use, so the
#: python and shell adapters work without httpx (which only the http adapter needs).
ADAPTER_KINDS: dict[str, str] = {
    "python": "ddrisk.stress.adapters.python_callable",
    "shell": "ddrisk.stress.adapters.shell",
    "http": "ddrisk.stress.adapters.http",
}
_LAYER_CLASSES = {
    "PythonCallableLayer": "python",
    "ShellLayer": "shell",
    "HttpLayer": "http",
}


def __getattr__(name: str) -> Any:
    """Lazy access to the layer classes (``from ddrisk.stress.adapters import ShellLayer``)."""
    if name in _LAYER_CLASSES:
        return getattr(importlib.import_module(ADAPTER_KINDS[_LAYER_CLASSES[name]]), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def layer_from_spec(spec: Any, *, source: str, where: str | None = None) -> Layer:
    """Build the layer one layers-file entry describes.

    >>> layer = layer_from_spec(
    ...     {"name": "nonempty", "kind": "python", "target": "operator:truth"}, source="layers.yaml"
    ... )
    >>> layer.config()["call"], [v.blocked for v in layer.check([])]
    ('per_item', [])
    >>> layer_from_spec({"name": "x", "kind": "grpc"}, source="layers.yaml")
    Traceback (most recent call last):
    ...
    ddrisk.errors.InputError: layers.yaml: layer 'x'.kind: unknown layer kind 'grpc'; fix: use one of: http, python, shell
    """
    prefix = spec_where(spec, where)
    if not isinstance(spec, dict):
        raise InputError(source, prefix, "a layer must be a mapping", "write key: value pairs")
    kind = spec.get("kind")
    if kind is None:
        raise InputError(
            source,
            prefix,
            "missing required key 'kind'",
            f"add kind: one of {', '.join(sorted(ADAPTER_KINDS))}",
        )
    if kind not in ADAPTER_KINDS:
        raise InputError(
            source,
            f"{prefix}.kind",
            f"unknown layer kind {kind!r}",
            f"use one of: {', '.join(sorted(ADAPTER_KINDS))}",
        )
    from_spec = adapter_builder(kind, source=source, where=f"{prefix}.kind")
    return from_spec(spec, source=source, where=where)


def adapter_builder(kind: str, *, source: str, where: str) -> Callable[..., Layer]:
    """The ``from_spec`` of adapter ``kind`` (a key of :data:`ADAPTER_KINDS`), loaded now.

    The one place adapter modules are imported, for :func:`layer_from_spec` and the stress
    configuration alike; a module that cannot load (httpx missing) is a located input error.
    """
    try:
        module = importlib.import_module(ADAPTER_KINDS[kind])
    except ImportError as exc:
        raise InputError(
            source,
            where,
            f"the '{kind}' adapter cannot be loaded ({exc})",
            'install the stress extra: pip install "ddrisk[stress]"',
        ) from None
    from_spec: Callable[..., Layer] = module.from_spec
    return from_spec


__all__ = [
    "ADAPTER_KINDS",
    "HttpLayer",
    "PythonCallableLayer",
    "ShellLayer",
    "adapter_builder",
    "layer_from_spec",
]
