"""Uploaded receipts made safe to store and serve.

The type comes from the file's first bytes, never from its name or the client's
Content-Type. Images are decoded and re-encoded, which leaves behind whatever rode along
with the pixels (EXIF with GPS, XMP, comments, text chunks, bytes after the image); PDFs
are kept byte for byte once they look like a complete PDF.

Over 400 lines for one job: every check, its refusal naming the file, and the name the
file is stored and served under hang on the same table of accepted types.
"""

import hashlib
import io
import re
import struct
import unicodedata
from collections.abc import Iterator
from dataclasses import dataclass
from decimal import ROUND_CEILING, ROUND_FLOOR, Decimal
from tempfile import SpooledTemporaryFile
from typing import Any, BinaryIO, cast
from urllib.parse import quote

from babel.numbers import format_decimal
from PIL import ExifTags, Image, ImageCms, ImageOps, UnidentifiedImageError

from contoso.errors import TooLarge, UnprocessableFile, UnsupportedMediaType
from contoso.formatting import LOCALE, count

ACCEPTED = "JPEG, PNG, WebP or PDF"
MAX_PIXELS = 50_000_000
# Decoding work grows with scans times pixels, and a progressive JPEG may repeat a scan
# thousands of times (a 421 KB file took 19 s). Encoders write at most 18: libjpeg's
# progressive script has 10 for colour and 2 + 4 per component otherwise (18 for CMYK).
MAX_JPEG_SCANS = 20
# A colour profile is a few KB (sRGB: 3 KB; a printer's: a few hundred KB).
MAX_ICC_PROFILE_BYTES = 1024 * 1024
MAX_FILENAME_LENGTH = 100
SPOOL_MAX_MEMORY = 1024 * 1024

_CHUNK = 64 * 1024
_HEAD = 16  # enough for every signature `sniff` knows
_PDF_TAIL = 1024  # where PDF readers look for %%EOF
_PDF_HEADER = re.compile(rb"%PDF-[12]\.[0-9]")
_KIB = 1024
_MIB = 1024 * 1024


@dataclass(frozen=True)
class ReceiptType:
    """An accepted kind of receipt file, as it is stored and served."""

    content_type: str
    extension: str
    is_image: bool


JPEG = ReceiptType("image/jpeg", ".jpg", is_image=True)
PNG = ReceiptType("image/png", ".png", is_image=True)
WEBP = ReceiptType("image/webp", ".webp", is_image=True)
PDF = ReceiptType("application/pdf", ".pdf", is_image=False)

# How a person calls each type ("looks like a WebP") and the one Pillow decoder it may use.
_KINDS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WebP", PDF: "PDF"}
_DECODERS = {JPEG: "JPEG", PNG: "PNG", WEBP: "WEBP"}
_EXTENSIONS = {JPEG: (".jpg", ".jpeg"), PNG: (".png",), WEBP: (".webp",), PDF: (".pdf",)}

# What Pillow raises on a file it cannot decode (UnidentifiedImageError is an OSError).
_UNREADABLE = (UnidentifiedImageError, OSError, SyntaxError, ValueError, struct.error, EOFError)

# In a JPEG's entropy-coded data a 0xFF byte is followed by 0x00 (a stuffed 0xFF), a
# restart marker (0xD0-0xD7) or more 0xFF fill: anything else starts the next segment.
_NEXT_JPEG_SEGMENT = re.compile(rb"\xff[^\x00\xd0-\xd7\xff]")
_JPEG_SOS, _JPEG_EOI = 0xDA, 0xD9
_JPEG_STANDALONE = frozenset({0x01, *range(0xD0, 0xD8)})  # markers without a length
# The colour spaces of Pillow's modes, as an ICC profile's header names them.
_ICC_SPACES = {"RGB": "RGB", "RGBA": "RGB", "L": "GRAY", "LA": "GRAY", "CMYK": "CMYK"}

# Characters nobody should find in a file name: controls, format characters (bidi
# overrides, zero-width), half surrogates and line or paragraph separators.
_INVISIBLE = frozenset({"Cc", "Cf", "Cs", "Zl", "Zp"})
_PATH_SEPARATORS = re.compile(r"[/\\]")
_EDGE_DOTS_AND_SPACES = re.compile(r"^[\s.]+|[\s.]+$")


def sniff(head: bytes) -> ReceiptType | None:
    """The type the file's first bytes (at least 12) say it is, or None. Names and the
    client's Content-Type are never consulted: both are whatever the sender chose."""
    if head.startswith(b"\xff\xd8\xff"):
        return JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return WEBP
    if head.startswith(b"%PDF-"):
        return PDF
    return None


@dataclass
class CleanReceipt:
    """A receipt ready to store: `file` holds the cleaned bytes, positioned at 0, and the
    caller closes it. `size` and `sha256` describe those cleaned bytes."""

    filename: str
    type: ReceiptType
    size: int
    sha256: str
    file: BinaryIO


def clean_receipt(
    source: BinaryIO, filename: str | None, *, max_bytes: int, max_pixels: int = MAX_PIXELS
) -> CleanReceipt:
    """Check an upload and return it in a form safe to store and serve, all in this
    thread: `check_receipt`, then `clean_image` for an image. Blocking; the app runs the
    image step in a decoding process instead (`receipts.decoding`).

    `source` must be seekable; it is read in chunks and never whole. The caller closes
    the result's file.
    """
    receipt_type = check_receipt(source, filename, max_bytes=max_bytes)
    cleaned: BinaryIO = source
    if receipt_type.is_image:
        cleaned = io.BytesIO()
        clean_image(source, cleaned, receipt_type, filename, max_pixels)
    cleaned.seek(0)
    file, stored_size, sha256 = spool(cleaned)
    return CleanReceipt(
        filename=safe_filename(filename, receipt_type),
        type=receipt_type,
        size=stored_size,
        sha256=sha256,
        file=file,
    )


def check_receipt(
    source: BinaryIO,
    filename: str | None,
    *,
    max_bytes: int,
    max_scans: int = MAX_JPEG_SCANS,
) -> ReceiptType:
    """The type of an upload, by its first bytes, after the checks that need no
    decoding: its size; for a PDF its first and last bytes; for a JPEG how many scans
    it has, found by walking its markers (milliseconds for 10 MB).

    Raises TooLarge for a file over `max_bytes`; UnprocessableFile for a JPEG with more
    than `max_scans` scans; UnsupportedMediaType for an empty file, a type other than
    ACCEPTED, or a PDF that does not start and end like one.
    """
    name = _client_name(filename)
    size = source.seek(0, io.SEEK_END)
    if size > max_bytes:
        raise TooLarge(
            f"{_shown(name, 'This file')} is {_bytes(size, ROUND_CEILING)}; receipts can be "
            f"at most {_bytes(max_bytes, ROUND_FLOOR)} each. Take a smaller photo or scan, "
            "or compress the PDF."
        )
    if size == 0:
        raise UnsupportedMediaType(
            f"{_shown(name, 'This file')} is empty. Choose the receipt file again and upload it."
        )
    source.seek(0)
    receipt_type = sniff(source.read(_HEAD))
    if receipt_type is None:
        raise UnsupportedMediaType(
            f"{_shown(name, 'This file')} is not a {ACCEPTED} file. Upload a photo or scan of "
            "the receipt in one of those formats."
        )
    if not receipt_type.is_image:
        _check_pdf(source, size, name)
    source.seek(0)
    if receipt_type is JPEG and _jpeg_scans(source, max_scans) > max_scans:
        raise UnprocessableFile(
            f"{_shown(name, 'This image')} is a JPEG with more than {max_scans} scans, "
            "more than any camera or scanner writes, and would take too long to open. "
            "Export or photograph the receipt again and upload the new file."
        )
    source.seek(0)
    return receipt_type


def clean_image(
    source: BinaryIO,
    target: BinaryIO,
    receipt_type: ReceiptType,
    filename: str | None,
    max_pixels: int = MAX_PIXELS,
) -> None:
    """Write to `target` the image in `source` re-encoded in its own format with nothing
    but its pixels (and a colour profile that parses as one): turned upright first,
    first frame only. Deterministic (same input, same Pillow: same bytes), so equal
    uploads get equal hashes.

    Raises TooLarge for an image over `max_pixels`, and UnsupportedMediaType for a file
    that cannot be decoded as the type its first bytes claim.
    """
    name = _client_name(filename)
    source.seek(0)
    try:
        # One decoder: a file whose first bytes say JPEG is only ever decoded as a JPEG.
        with Image.open(source, formats=[_DECODERS[receipt_type]]) as image:
            width, height = image.size  # from the header: nothing decoded yet
            if width * height > max_pixels:
                pixels = f"{count(width)} \N{MULTIPLICATION SIGN} {count(height)} pixels"
                raise TooLarge(
                    f"{_shown(name, 'This image')} is {pixels}; "
                    f"receipts can be at most {_megapixels(max_pixels)} megapixels. "
                    "Take the photo at a lower resolution or scale the image down."
                )
            image.load()  # the first frame only: a receipt is a still
            _encode(image, receipt_type, target)
    except Image.DecompressionBombError as error:
        raise TooLarge(
            f"{_shown(name, 'This image')} has too many pixels to open; receipts can be at "
            f"most {_megapixels(max_pixels)} megapixels. Take the photo at a lower resolution "
            "or scale the image down."
        ) from error
    except _UNREADABLE as error:
        raise UnsupportedMediaType(
            f"{_shown(name, 'This file')} looks like a {_KINDS[receipt_type]} but could not "
            "be read; it may be damaged. Take the photo or export the image again, then "
            "upload the new file."
        ) from error


def _jpeg_scans(source: BinaryIO, enough: int) -> int:
    """How many scans (SOS segments) the JPEG in `source` has, found by walking its
    markers without decoding, a chunk at a time; counting stops past `enough`. A file
    that stops making sense is left to the decoder to refuse."""
    source.seek(2)  # after SOI
    scans = 0
    while source.read(1) == b"\xff":
        marker = source.read(1)
        while marker == b"\xff":  # fill
            marker = source.read(1)
        if not marker or marker[0] == _JPEG_EOI:
            break
        if marker[0] in _JPEG_STANDALONE:
            continue
        length = int.from_bytes(source.read(2), "big")
        if length < 2:
            break
        source.seek(length - 2, io.SEEK_CUR)
        if marker[0] == _JPEG_SOS:
            scans += 1
            if scans > enough or not _past_entropy_coded_data(source):
                break
    return scans


def _past_entropy_coded_data(source: BinaryIO) -> bool:
    """Move `source` to the 0xFF that starts the segment after a scan's data; False if
    the file ends first."""
    carried = b""  # a 0xFF at a chunk's end may start the marker
    position = source.tell()
    while chunk := source.read(_CHUNK):
        data = carried + chunk
        found = _NEXT_JPEG_SEGMENT.search(data)
        if found is not None:
            source.seek(position - len(carried) + found.start())
            return True
        position += len(chunk)
        carried = data[-1:]
    return False


def _encode(image: Image.Image, receipt_type: ReceiptType, into: BinaryIO) -> None:
    upright = _upright(image)
    upright, icc_profile = _colour_profile(upright)
    transparency = upright.info.get("transparency")
    # Savers take defaults from `info` (a JPEG comment, for one): empty it rather than
    # trust each of them to leave metadata behind.
    upright.info = {}
    options: dict[str, Any] = {"format": _DECODERS[receipt_type], "exif": b""}
    if icc_profile:
        options["icc_profile"] = icc_profile  # so colours stay as the camera meant them
    if receipt_type is PNG:
        # No optimize: it tries every filter and costs far more time than the bytes saved.
        options["optimize"] = False
        if transparency is not None:
            options["transparency"] = transparency
    elif receipt_type is WEBP:
        # Lossy at 90 whatever the source was: telling lossless WebP apart means parsing
        # its chunks, and a receipt has to stay legible, not bit-identical.
        options["quality"] = 90
    elif upright is image:
        # The original quantisation tables and subsampling: no second generation loss.
        try:
            upright.save(into, quality="keep", **options)
            return
        except ValueError:  # tables Pillow cannot write back
            into.seek(0)
            into.truncate()
            options["quality"] = 90
    else:
        options["quality"] = 90  # turned upright: the original tables no longer apply
    upright.save(into, **options)


def _colour_profile(image: Image.Image) -> tuple[Image.Image, bytes | None]:
    """The image and the ICC profile to store with it: the image's own profile as the
    colour engine writes it back, when it parses as an ICC profile of the image's colour
    space and is at most MAX_ICC_PROFILE_BYTES. A profile that parses but is larger is
    applied (the pixels converted to sRGB) and dropped; anything else is dropped, and the
    pixels are read as sRGB, as browsers read an image without a profile. Whatever rides
    in the profile's place is thus never stored as sent."""
    raw = image.info.get("icc_profile")
    if not raw:
        return image, None
    try:
        profile = ImageCms.ImageCmsProfile(io.BytesIO(raw))
        space = profile.profile.xcolor_space.strip()
    except (OSError, ImageCms.PyCMSError, ValueError, TypeError):
        return image, None
    if space != _ICC_SPACES.get(image.mode):
        return image, None
    if len(raw) <= MAX_ICC_PROFILE_BYTES:
        return image, profile.tobytes()
    try:
        converted = ImageCms.profileToProfile(
            image,
            profile,
            ImageCms.createProfile("sRGB"),
            outputMode="RGBA" if "A" in image.mode else "RGB",
        )
    except (OSError, ImageCms.PyCMSError, ValueError):
        return image, None
    return (converted if converted is not None else image), None


def _upright(image: Image.Image) -> Image.Image:
    """The image as it is meant to be seen. Phones store pixels as the sensor read them
    and say in EXIF how to turn them; EXIF is about to go, so apply the turn now."""
    try:
        orientation = image.getexif().get(ExifTags.Base.Orientation, 1)
    except _UNREADABLE:
        return image  # unreadable EXIF is dropped with the rest; the pixels are fine
    if orientation not in range(2, 9):
        return image
    return ImageOps.exif_transpose(image)


def _check_pdf(source: BinaryIO, size: int, name: str | None) -> None:
    """Refuse a file that starts like a PDF but does not end like one: a versioned
    header at offset 0 and %%EOF in the last 1024 bytes, where PDF readers look."""
    source.seek(0)
    head = source.read(_HEAD)
    source.seek(max(0, size - _PDF_TAIL))
    tail = source.read(_PDF_TAIL)
    if not _PDF_HEADER.match(head) or b"%%EOF" not in tail:
        raise UnsupportedMediaType(
            f"{_shown(name, 'This file')} looks like a PDF but is incomplete or damaged. "
            "Save or export the PDF again, then upload the new file."
        )


def measure(cleaned: BinaryIO) -> tuple[int, str]:
    """The size and SHA-256 of `cleaned` from its position on, read in chunks."""
    digest = hashlib.sha256()
    size = 0
    for chunk in _chunks(cleaned):
        digest.update(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


def spool(cleaned: BinaryIO) -> tuple[BinaryIO, int, str]:
    """A copy of `cleaned` from its position on, in a spooled temporary file at position 0,
    with its size and SHA-256, copied in chunks."""
    # Not a `with`: the caller owns the file. Typeshed does not count it as a BinaryIO.
    file = cast(BinaryIO, SpooledTemporaryFile(max_size=SPOOL_MAX_MEMORY))  # noqa: SIM115
    digest = hashlib.sha256()
    size = 0
    try:
        for chunk in _chunks(cleaned):
            digest.update(chunk)
            file.write(chunk)
            size += len(chunk)
        file.seek(0)
    except BaseException:
        file.close()
        raise
    return file, size, digest.hexdigest()


def _chunks(source: BinaryIO) -> Iterator[bytes]:
    while chunk := source.read(_CHUNK):
        yield chunk


def safe_filename(filename: str | None, receipt_type: ReceiptType) -> str:
    """A name to show and to download the receipt as: the last part of the client's
    name without invisible characters or edge dots and spaces, at most 100 characters,
    ending in an extension that matches the content ("invoice.exe" holding a PDF becomes
    "invoice.exe.pdf"; "scan.PNG" holding a PNG stays). "receipt" when nothing is left."""
    name = _client_name(filename) or ""
    stem, dot, extension = name.rpartition(".")
    if stem and dot and f".{extension}".lower() in _EXTENSIONS[receipt_type]:
        suffix = f".{extension}"
    else:
        stem, suffix = name, receipt_type.extension
    stem = _EDGE_DOTS_AND_SPACES.sub("", stem[: MAX_FILENAME_LENGTH - len(suffix)])
    return f"{stem or 'receipt'}{suffix}"


def content_disposition(filename: str, receipt_type: ReceiptType) -> str:
    """The Content-Disposition header value to serve the receipt with: shown in the
    browser (`inline`) for images, downloaded (`attachment`) for PDFs. Old clients read
    the ASCII `filename`; the others the exact name from `filename*` (RFC 5987/6266)."""
    disposition = "inline" if receipt_type.is_image else "attachment"
    visible = _without_invisible(filename)
    fallback = (
        "".join(char if char.isascii() else "_" for char in visible if char not in '"\\')
        or f"receipt{receipt_type.extension}"
    )
    encoded = quote(visible or fallback, safe="")
    return f"{disposition}; filename=\"{fallback}\"; filename*=UTF-8''{encoded}"


def _client_name(filename: str | None) -> str | None:
    """The last part of the client's file name, composed (NFC, as macOS sends names
    decomposed) and without invisible characters or edge dots and spaces, or None."""
    if filename is None:
        return None
    try:
        filename.encode("utf-8")
    except UnicodeEncodeError:
        return None  # half a surrogate pair: not a name any system gave the file
    name = _PATH_SEPARATORS.split(unicodedata.normalize("NFC", filename))[-1]
    return _EDGE_DOTS_AND_SPACES.sub("", _without_invisible(name)) or None


def _without_invisible(text: str) -> str:
    return "".join(char for char in text if unicodedata.category(char) not in _INVISIBLE)


def shown_name(filename: str | None, otherwise: str) -> str:
    """The client's file name as a message names it: “its name”, or `otherwise`."""
    return _shown(_client_name(filename), otherwise)


def _shown(name: str | None, otherwise: str) -> str:
    """The file as a message names it: “its name”, shortened, or `otherwise`."""
    if name is None:
        return otherwise
    if len(name) > MAX_FILENAME_LENGTH:
        name = name[: MAX_FILENAME_LENGTH - 1] + "…"
    return f"“{name}”"


def _bytes(size: int, rounding: str) -> str:
    """`size` in MB (MiB) or, below that, KB, to a tenth; round up a file's size and
    down a limit, so a file just over the limit never reads as equal to it."""
    unit, scale = ("MB", _MIB) if size >= _MIB else ("KB", _KIB)
    value = (Decimal(size) / scale).quantize(Decimal("0.1"), rounding=rounding)
    return f"{format_decimal(value, format='#,##0.#', locale=LOCALE)} {unit}"


def _megapixels(pixels: int) -> str:
    return format_decimal(Decimal(pixels) / 1_000_000, format="#,##0.######", locale=LOCALE)


def stored_type(content_type: str) -> ReceiptType:
    """The type of a stored receipt, by the content type it was stored with."""
    return next(kind for kind in _KINDS if kind.content_type == content_type)
