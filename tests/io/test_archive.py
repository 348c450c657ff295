"""Bounded reading of .eval archives: zstd members, decompression bombs, corrupt archives."""

from __future__ import annotations

import io
import json
import struct
import tracemalloc
import zipfile
import zlib
from pathlib import Path

import pytest
import zstandard
from click.testing import CliRunner

from ddrisk.cli import main
from ddrisk.errors import InputError
from ddrisk.io import _archive, read_inspect
from ddrisk.io._archive import BoundedZip

GOLDEN_EVAL = Path(__file__).parents[1] / "fixtures" / "golden" / "inspect" / "guard_stack.eval"
HEADER = json.dumps({"version": 2, "status": "success", "eval": {"task": "t"}}).encode()


def zip_with(
    members: list[tuple[str, bytes, bytes]],
    *,
    method: int = 93,
    declared: dict[str, int] | None = None,
) -> bytes:
    """A zip whose members hold ``raw`` bytes under ``method``, claiming ``plain``'s size/CRC.

    ``members`` are ``(name, plain, raw)``; ``declared`` overrides a member's uncompressed size
    in both headers (a lying header).
    """
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", compression=zipfile.ZIP_STORED) as archive:
        for name, _plain, raw in members:
            archive.writestr(name, raw)
    data = bytearray(buffer.getvalue())
    for name, plain, _raw in members:
        size = (declared or {}).get(name, len(plain))
        crc = zlib.crc32(plain)
        encoded = name.encode()
        local = data.index(b"PK\x03\x04")
        while data[local + 30 : local + 30 + len(encoded)] != encoded:
            local = data.index(b"PK\x03\x04", local + 4)
        struct.pack_into("<H", data, local + 8, method)
        struct.pack_into("<L", data, local + 14, crc)
        struct.pack_into("<L", data, local + 22, size)
        central = data.index(b"PK\x01\x02")
        while data[central + 46 : central + 46 + len(encoded)] != encoded:
            central = data.index(b"PK\x01\x02", central + 4)
        struct.pack_into("<H", data, central + 10, method)
        struct.pack_into("<L", data, central + 16, crc)
        struct.pack_into("<L", data, central + 24, size)
    return bytes(data)


def zstd(data: bytes) -> bytes:
    return zstandard.ZstdCompressor(level=1).compress(data)


def eval_file(tmp_path: Path, content: bytes, name: str = "log.eval") -> Path:
    path = tmp_path / name
    path.write_bytes(content)
    return path


@pytest.fixture
def small_limits(monkeypatch):
    monkeypatch.setattr(_archive, "MAX_MEMBER_BYTES", 1 << 20)
    monkeypatch.setattr(_archive, "MAX_ARCHIVE_BYTES", 3 << 20)


def test_zstd_members_are_read_and_checked():
    with GOLDEN_EVAL.open("rb") as handle:
        archive = BoundedZip(handle, label="g")
        names = archive.names()
        assert "header.json" in names
        assert json.loads(archive.read("header.json"))["version"] == 2
    plain = b'{"a": 1}'
    for method, raw in ((93, zstd(plain)), (8, zlib.compress(plain)[2:-4]), (0, plain)):
        content = zip_with([("m.json", plain, raw)], method=method)
        assert BoundedZip(io.BytesIO(content), label="x").read("m.json") == plain


def test_bomb_with_honest_header_is_refused_before_decompressing(tmp_path, small_limits):
    zeros = bytes(8 << 20)
    content = zip_with(
        [("header.json", HEADER, zstd(HEADER)), ("samples/1.json", zeros, zstd(zeros))]
    )
    path = eval_file(tmp_path, content)
    with pytest.raises(InputError) as caught:
        read_inspect(path)
    assert caught.value.source == str(path)
    assert caught.value.where == "member samples/1.json"
    assert "declares 8,388,608 bytes, past the 1,048,576-byte decompression limit" in (
        caught.value.problem
    )


def test_bomb_with_lying_header_stops_at_the_limit(tmp_path, small_limits):
    zeros = bytes(64 << 20)
    raw = zstd(zeros)
    content = zip_with([("samples/1.json", zeros, raw)], declared={"samples/1.json": 100})
    tracemalloc.start()
    try:
        with pytest.raises(InputError, match="expands, past the 1,048,576-byte") as caught:
            BoundedZip(io.BytesIO(content), label="bomb.eval").read("samples/1.json")
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert caught.value.source == "bomb.eval"
    assert peak < 8 << 20  # the 64 MiB expansion never happens


def test_archive_budget_covers_all_members(small_limits):
    chunk = bytes(900 << 10)
    content = zip_with([(f"samples/{i}.json", chunk, zstd(chunk)) for i in range(4)])
    archive = BoundedZip(io.BytesIO(content), label="many.eval")
    for i in range(3):
        archive.read(f"samples/{i}.json")
    with pytest.raises(InputError, match="decompression limit"):
        archive.read("samples/3.json")


@pytest.mark.parametrize(
    ("content", "where", "problem"),
    [
        (
            zip_with([("header.json", HEADER, b"not zstd at all")]),
            "member header.json",
            "corrupt zstd",
        ),
        (
            zip_with([("header.json", HEADER, zstd(HEADER.replace(b"2", b"3")))]),
            "member header.json",
            "does not match the size or checksum",
        ),
        (zip_with([("header.json", HEADER, HEADER)], method=99), "member header.json", "method 99"),
        (
            zip_with([("header.json", HEADER, b"\x00garbage")], method=8),
            "member header.json",
            "corrupt deflate",
        ),
        (GOLDEN_EVAL.read_bytes()[: GOLDEN_EVAL.stat().st_size // 2], "zip directory", "zip"),
    ],
    ids=["bad-zstd", "bad-crc", "unknown-method", "bad-deflate", "truncated"],
)
def test_corrupt_archives_are_one_located_error(tmp_path, content, where, problem):
    path = eval_file(tmp_path, content)
    with pytest.raises(InputError) as caught:
        read_inspect(path)
    assert caught.value.source == str(path)
    assert caught.value.where == where
    assert problem in caught.value.problem
    assert caught.value.fix


def test_cli_prints_one_line_for_a_bomb(tmp_path, small_limits):
    zeros = bytes(4 << 20)
    content = zip_with(
        [("header.json", HEADER, zstd(HEADER)), ("samples/1.json", zeros, zstd(zeros))],
        declared={"samples/1.json": 10},
    )
    path = eval_file(tmp_path, content)
    result = CliRunner().invoke(main, ["stress", "analyze", str(path), "--from", "inspect"])
    assert result.exit_code == 2
    assert "Traceback" not in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert "decompression limit" in result.output
