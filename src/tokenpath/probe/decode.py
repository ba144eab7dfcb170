"""Content-Encoding decoding (gzip, deflate) in bounded steps: a gzip bomb never sits in
memory, because no step yields more than ``DECODE_STEP`` bytes.
"""

from __future__ import annotations

import zlib
from collections.abc import Iterator

DECODE_STEP = 256 * 1024  # decompressed bytes per step
ENCODINGS = ("gzip", "x-gzip", "deflate")  # what ``Decoder`` accepts


class Decoder:
    """Incremental decoding of one body. ``decode`` raises ``zlib.error`` on corrupt data."""

    def __init__(self, encoding: str) -> None:
        self._gzip = encoding in ("gzip", "x-gzip")
        self._z = zlib.decompressobj(31 if self._gzip else zlib.MAX_WBITS)
        self._started = False

    def decode(self, data: bytes) -> Iterator[bytes]:
        while True:
            out = self._decompress(data)
            data = self._z.unconsumed_tail
            if out:
                yield out
            if self._z.eof:
                if not (self._gzip and self._z.unused_data):
                    return
                data = self._z.unused_data  # a further gzip member
                self._z = zlib.decompressobj(31)
                continue
            if not data and len(out) < DECODE_STEP:
                return

    def _decompress(self, data: bytes) -> bytes:
        if self._started or self._gzip:
            return self._z.decompress(data, DECODE_STEP)
        self._started = bool(data)
        try:
            return self._z.decompress(data, DECODE_STEP)
        except zlib.error:
            # "deflate" is often sent as raw deflate, without the zlib header.
            self._z = zlib.decompressobj(-zlib.MAX_WBITS)
            return self._z.decompress(data, DECODE_STEP)

    def flush(self) -> bytes:
        return self._z.flush() if not self._z.eof else b""
