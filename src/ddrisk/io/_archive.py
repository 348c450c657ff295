"""Bounded reading of zip archives whose members may be zstd-compressed (inspect's ``.eval``).

Python's :mod:`zipfile` (3.11) reads stored, deflate, bzip2 and lzma members but not zstd
(method 93), which inspect_ai writes by default. This module reads the central directory
with :mod:`zipfile`, then decompresses each member itself, so that

- zstd members are read with the ``zstandard`` package,
- every member is decompressed incrementally and stopped as soon as it passes a size
  limit (a decompression bomb costs at most the limit, never the declared size),
- the CRC-32 of every member is checked, and every defect (truncated archive, bad local
  header, corrupt stream, unknown method) is one located :class:`~ddrisk.errors.InputError`.
"""

from __future__ import annotations

import io
import struct
import zipfile
import zlib
from typing import BinaryIO

from ddrisk.errors import InputError

ZIP_ZSTANDARD = 93
"""The zip compression method number of zstd (APPNOTE 4.4.5)."""
MAX_MEMBER_BYTES = 256 * 1024 * 1024
"""Largest decompressed size of one member (256 MiB): far above a real sample file."""
MAX_ARCHIVE_BYTES = 1024 * 1024 * 1024
"""Largest decompressed size of all members read from one archive together (1 GiB)."""
_CHUNK = 1 << 16
_LOCAL_HEADER = struct.Struct("<4s2B4HL2L2H")
_FIX_CORRUPT = (
    "the archive is damaged or truncated; copy the log again from where the tool wrote it"
)


class BoundedZip:
    """A zip archive read member by member within decompressed-size limits."""

    def __init__(
        self,
        handle: BinaryIO,
        *,
        label: str,
        max_member_bytes: int | None = None,
        max_total_bytes: int | None = None,
    ):
        self.label = label
        self._handle = handle
        self._max_member = MAX_MEMBER_BYTES if max_member_bytes is None else max_member_bytes
        self._max_total = MAX_ARCHIVE_BYTES if max_total_bytes is None else max_total_bytes
        self._budget = self._max_total
        try:
            archive = zipfile.ZipFile(handle)
        except (zipfile.BadZipFile, OSError, ValueError, EOFError) as exc:
            raise InputError(
                label, "zip directory", f"not a readable zip archive ({exc})", _FIX_CORRUPT
            ) from None
        self._infos = {info.filename: info for info in archive.infolist()}

    def names(self) -> list[str]:
        """Member names in archive order."""
        return list(self._infos)

    def read(self, name: str) -> bytes:
        """The decompressed bytes of one member; every failure is an :class:`InputError`."""
        info = self._infos[name]
        where = f"member {name}"
        limit = min(self._max_member, self._budget)
        if info.file_size > limit:
            raise self._too_big(where, info.file_size, limit)
        raw = self._raw_member(info, where)
        if info.compress_type == zipfile.ZIP_STORED:
            data = raw[: limit + 1]
        elif info.compress_type == zipfile.ZIP_DEFLATED:
            data = self._inflate(raw, where, limit)
        elif info.compress_type == ZIP_ZSTANDARD:
            data = self._unzstd(raw, where, limit)
        else:
            raise InputError(
                self.label,
                where,
                f"unsupported zip compression method {info.compress_type}",
                "ddrisk reads stored, deflate and zstd members; rewrite the log with the tool",
            )
        if len(data) > limit:
            raise self._too_big(where, None, limit)
        if len(data) != info.file_size or zlib.crc32(data) != info.CRC:
            raise InputError(
                self.label,
                where,
                "decompressed data does not match the size or checksum in the zip directory",
                _FIX_CORRUPT,
            )
        self._budget -= len(data)
        return data

    def _too_big(self, where: str, declared: int | None, limit: int) -> InputError:
        size = f"declares {declared:,} bytes" if declared is not None else "expands"
        return InputError(
            self.label,
            where,
            f"member {size}, past the {limit:,}-byte decompression limit "
            f"({self._max_member:,} per member, {self._max_total:,} per archive)",
            "this is not a log a tool wrote (a decompression bomb?); pass the original log",
        )

    def _raw_member(self, info: zipfile.ZipInfo, where: str) -> bytes:
        try:
            self._handle.seek(info.header_offset)
            header = self._handle.read(_LOCAL_HEADER.size)
            if len(header) != _LOCAL_HEADER.size or header[:4] != b"PK\x03\x04":
                raise InputError(self.label, where, "bad local file header", _FIX_CORRUPT)
            fields = _LOCAL_HEADER.unpack(header)
            name_length, extra_length = fields[-2], fields[-1]
            self._handle.seek(info.header_offset + _LOCAL_HEADER.size + name_length + extra_length)
            raw = self._handle.read(info.compress_size)
        except OSError as exc:
            raise InputError(self.label, where, f"cannot be read ({exc})", _FIX_CORRUPT) from None
        if len(raw) != info.compress_size:
            raise InputError(self.label, where, "the member is cut short", _FIX_CORRUPT)
        return raw

    def _inflate(self, raw: bytes, where: str, limit: int) -> bytes:
        engine = zlib.decompressobj(-zlib.MAX_WBITS)
        try:
            data = engine.decompress(raw, limit + 1)
        except zlib.error as exc:
            raise InputError(
                self.label, where, f"corrupt deflate data ({exc})", _FIX_CORRUPT
            ) from None
        return data

    def _unzstd(self, raw: bytes, where: str, limit: int) -> bytes:
        import zstandard

        out = io.BytesIO()
        try:
            reader = zstandard.ZstdDecompressor().stream_reader(
                io.BytesIO(raw), read_across_frames=True
            )
            with reader:
                while out.tell() <= limit:
                    chunk = reader.read(_CHUNK)
                    if not chunk:
                        break
                    out.write(chunk)
        except zstandard.ZstdError as exc:
            raise InputError(
                self.label, where, f"corrupt zstd data ({exc})", _FIX_CORRUPT
            ) from None
        return out.getvalue()
