"""Canonical SHA-256 hashes: the "input hash" every ddrisk record cites.

One canonical form so that the same object always gives the same hash, whichever module
computes it: JSON with sorted keys and no spaces (``separators=(",", ":")``). Files are hashed
from their bytes with :func:`hashlib.file_digest` (streamed, no whole-file read), several files
as one digest of their concatenated bytes in the order given.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable, Iterable
from os import PathLike
from typing import Any

__all__ = [
    "canonical_json",
    "file_sha256",
    "files_sha256",
    "object_sha256",
    "text_sha256",
]

_CHUNK = 1 << 20


def canonical_json(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """``value`` as canonical JSON text (sorted keys, compact separators).

    >>> canonical_json({"b": 1, "a": [1, 2]})
    '{"a":[1,2],"b":1}'
    """
    return json.dumps(value, sort_keys=True, separators=(",", ":"), default=default)


def object_sha256(value: Any, *, default: Callable[[Any], Any] | None = None) -> str:
    """SHA-256 (hex) of :func:`canonical_json` of ``value``.

    >>> object_sha256({"a": 1}) == object_sha256({"a": 1})
    True
    """
    return text_sha256(canonical_json(value, default=default))


def text_sha256(text: str) -> str:
    """SHA-256 (hex) of ``text`` encoded as UTF-8.

    >>> text_sha256("")[:12]
    'e3b0c44298fc'
    """
    return hashlib.sha256(text.encode("utf-8")).hexdigest()


def file_sha256(path: str | PathLike[str]) -> str:
    """SHA-256 (hex) of a file's bytes, streamed with :func:`hashlib.file_digest`."""
    with open(path, "rb") as handle:
        return hashlib.file_digest(handle, "sha256").hexdigest()


def files_sha256(paths: Iterable[str | PathLike[str]]) -> str:
    """One SHA-256 (hex) of the files' bytes read one after the other, in the order given."""
    digest = hashlib.sha256()
    for path in paths:
        with open(path, "rb") as handle:
            for chunk in iter(lambda: handle.read(_CHUNK), b""):
                digest.update(chunk)
    return digest.hexdigest()
