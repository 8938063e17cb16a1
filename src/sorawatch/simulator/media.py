"""Small, valid-looking media files for ``GET /videos/{id}/content``.

Not playable video: an ISO BMFF file with a real ``ftyp`` box, a ``free`` box and an ``mdat``
of a few KB, enough for clients that sniff the container or check the size. Bytes are derived
from the video id, so the same job always downloads the same file.
"""

from __future__ import annotations

import hashlib
import random
import struct
import zlib


def _box(kind: bytes, payload: bytes) -> bytes:
    return struct.pack(">I", 8 + len(payload)) + kind + payload


def mp4_bytes(video_id: str, seconds: int = 4) -> bytes:
    rng = random.Random(hashlib.sha256(video_id.encode()).digest())
    ftyp = _box(b"ftyp", b"isom" + struct.pack(">I", 0x200) + b"isomiso2avc1mp41")
    free = _box(b"free", b"sorawatch simulator")
    mdat = _box(b"mdat", rng.randbytes(1024 * max(1, min(seconds, 20))))
    return ftyp + free + mdat


# A 1x1 lossless WebP (the smallest valid file), the format of OpenAI's thumbnails.
WEBP_1X1 = bytes.fromhex("524946461a000000574542505650384c0d0000002f00000010071011118888fe0700")


def png_bytes(width: int = 8, height: int = 8, seed: str = "") -> bytes:
    """A valid grey-scale PNG (the spritesheet stand-in)."""
    shade = hashlib.sha256(seed.encode()).digest()[0]
    raw = b"".join(b"\x00" + bytes([shade]) * width for _ in range(height))

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw))
        + chunk(b"IEND", b"")
    )
