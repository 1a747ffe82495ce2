"""Images that cost a decoder far more than their size says, built byte by byte."""

import io
import re

from PIL import Image

_NEXT_SEGMENT = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")


def jpeg_scans(data: bytes) -> list[tuple[int, int]]:
    """(start, end) of each scan of a JPEG: its SOS segment and the entropy-coded data
    after it."""
    scans, position = [], 2
    while position < len(data) and data[position + 1] != 0xD9:
        length = int.from_bytes(data[position + 2 : position + 4], "big")
        end = position + 2 + length
        if data[position + 1] == 0xDA:
            end = _NEXT_SEGMENT.search(data, end).start()
            scans.append((position, end))
        position = end
    return scans


def scan_bomb(side: int = 4000, repeats: int = 20_000, noise: bool = False) -> bytes:
    """A `side` x `side` progressive JPEG whose third scan is repeated `repeats` times:
    each repeat is a few bytes, and makes the decoder walk every block again (4000 px
    and 20,000 repeats: 374 KB, and 7 to 19 s of a CPU to decode). With `noise`, the
    scans are long (hundreds of KB at 1500 px)."""
    buffer = io.BytesIO()
    image = Image.effect_noise((side, side), 80) if noise else Image.new("L", (side, side), 255)
    image.convert("RGB").save(buffer, "JPEG", progressive=True, quality=90)
    data = buffer.getvalue()
    start, end = jpeg_scans(data)[2]
    return data[:end] + data[start:end] * repeats + data[end:]


def progressive_jpeg(mode: str = "RGB") -> bytes:
    """A progressive JPEG as libjpeg writes one: 10 scans in colour, 18 in CMYK."""
    buffer = io.BytesIO()
    Image.new(mode, (64, 48), "white").save(buffer, "JPEG", progressive=True, quality=90)
    return buffer.getvalue()


def slow_png(side: int = 7000) -> bytes:
    """A 49-megapixel PNG of 160 KB: under the pixel cap, and a second or two of a CPU
    to decode and encode again."""
    buffer = io.BytesIO()
    Image.linear_gradient("L").resize((side, side)).convert("RGB").save(buffer, "PNG")
    return buffer.getvalue()
