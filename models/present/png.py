"""A tiny RGB canvas written as PNG with zlib and struct only (no imaging library)."""

from __future__ import annotations

import struct
import zlib

SIGNATURE = b"\x89PNG\r\n\x1a\n"
Colour = tuple[int, int, int]
WHITE: Colour = (255, 255, 255)


def _chunk(kind: bytes, data: bytes) -> bytes:
    crc = zlib.crc32(kind + data) & 0xFFFFFFFF
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", crc)


class Canvas:
    """WIDTH x HEIGHT pixels of 8-bit RGB, drawn with rectangles."""

    def __init__(self, width: int, height: int, background: Colour = WHITE) -> None:
        """A canvas filled with BACKGROUND."""
        self.width = width
        self.height = height
        self.rows = [bytearray(bytes(background) * width) for _ in range(height)]

    def fill(self, x0: int, y0: int, x1: int, y1: int, colour: Colour) -> None:
        """Paint the pixels x0 <= x < x1, y0 <= y < y1 (clipped to the canvas)."""
        x0, x1 = max(0, x0), min(self.width, x1)
        y0, y1 = max(0, y0), min(self.height, y1)
        if x0 >= x1 or y0 >= y1:
            return
        span = bytes(colour) * (x1 - x0)
        for y in range(y0, y1):
            self.rows[y][3 * x0 : 3 * x1] = span

    def outline(self, x0: int, y0: int, x1: int, y1: int, colour: Colour, width: int = 2) -> None:
        """Draw a frame WIDTH pixels thick just inside the box x0..x1, y0..y1."""
        self.fill(x0, y0, x1, y0 + width, colour)
        self.fill(x0, y1 - width, x1, y1, colour)
        self.fill(x0, y0, x0 + width, y1, colour)
        self.fill(x1 - width, y0, x1, y1, colour)

    def pixel(self, x: int, y: int) -> Colour:
        """The colour at (x, y)."""
        r, g, b = self.rows[y][3 * x : 3 * x + 3]
        return r, g, b

    def png(self) -> bytes:
        """The canvas as a PNG file (deterministic: same pixels, same bytes)."""
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        raw = b"".join(b"\x00" + bytes(row) for row in self.rows)
        return (
            SIGNATURE
            + _chunk(b"IHDR", header)
            + _chunk(b"IDAT", zlib.compress(raw, 9))
            + _chunk(b"IEND", b"")
        )
