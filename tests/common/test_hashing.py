"""Canonical hashes (ddrisk._hashing): one form, the same bytes wherever computed."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from ddrisk._hashing import canonical_json, file_sha256, files_sha256, object_sha256, text_sha256


def test_object_hash_ignores_key_order_not_values() -> None:
    assert object_sha256({"a": 1, "b": [1, 2]}) == object_sha256({"b": [1, 2], "a": 1})
    assert object_sha256({"a": 1}) != object_sha256({"a": 2})
    assert canonical_json({"b": 1, "a": None}) == '{"a":null,"b":1}'


def test_text_and_file_hashes_match_hashlib(tmp_path: Path) -> None:
    first, second = tmp_path / "a.bin", tmp_path / "b.bin"
    first.write_bytes(b"x" * (3 << 20) + b"tail")  # larger than one read chunk
    second.write_bytes("é\n".encode())
    assert file_sha256(first) == hashlib.sha256(first.read_bytes()).hexdigest()
    assert (
        files_sha256([first, second])
        == hashlib.sha256(first.read_bytes() + second.read_bytes()).hexdigest()
    )
    assert files_sha256([second, first]) != files_sha256([first, second])
    assert text_sha256("é") == hashlib.sha256("é".encode()).hexdigest()


def test_catalog_hash_is_the_canonical_form() -> None:
    from ddrisk.io.catalog import load_catalog

    catalog = load_catalog(None)
    canonical = json.dumps(catalog.model_dump(mode="json"), sort_keys=True, separators=(",", ":"))
    assert catalog.content_hash == hashlib.sha256(canonical.encode()).hexdigest()


def test_layer_config_hash_uses_str_for_unknown_values() -> None:
    from ddrisk.stress.layer import config_hash

    assert config_hash({"path": Path("/x"), "n": 1}) == config_hash({"n": 1, "path": "/x"})
    assert len(config_hash({"n": 1})) == 16
