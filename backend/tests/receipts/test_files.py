"""Receipt files: only JPEG, PNG, WebP and PDF get in, decided by their bytes; images come
out upright with nothing but their pixels; PDFs come out as sent; sizes are capped."""

import hashlib
import io
import struct
import zlib

import pytest
from PIL import ExifTags, Image, ImageCms, features
from PIL.PngImagePlugin import PngInfo

from contoso.errors import TooLarge, UnprocessableFile, UnsupportedMediaType
from contoso.receipts.files import (
    ACCEPTED,
    JPEG,
    MAX_JPEG_SCANS,
    PDF,
    PNG,
    WEBP,
    clean_receipt,
    content_disposition,
    safe_filename,
    sniff,
)
from tests.support.images import jpeg_scans, progressive_jpeg, scan_bomb

MAX_BYTES = 10 * 1024 * 1024
PAYLOAD = b"<script>alert(1)</script>"
GPS_IFD = 0x8825
MINIMAL_PDF = (
    b"%PDF-1.4\n1 0 obj\n<< /Type /Catalog /Pages 2 0 R >>\nendobj\n"
    b"2 0 obj\n<< /Type /Pages /Kids [] /Count 0 >>\nendobj\n"
    b"trailer\n<< /Root 1 0 R >>\n%%EOF\n"
)


def clean(content, filename="receipt", **limits):
    limits.setdefault("max_bytes", MAX_BYTES)
    return clean_receipt(io.BytesIO(content), filename, **limits)


def image_bytes(image_format, size=(40, 20), mode="RGB", **options):
    image = Image.new(mode, size, "white")
    image.paste("red", (0, 0, size[0] // 2, size[1] // 2))  # a corner that shows the turn
    buffer = io.BytesIO()
    image.save(buffer, image_format, **options)
    return buffer.getvalue()


def noise_png(size=(64, 64)):
    """A PNG that does not compress, so cutting it in half cuts into the pixel data."""
    pixels = hashlib.shake_256(b"receipt").digest(size[0] * size[1] * 3)
    buffer = io.BytesIO()
    Image.frombytes("RGB", size, pixels).save(buffer, "PNG")
    return buffer.getvalue()


def png_declaring(width, height):
    """A PNG whose header claims `width` x `height` with a few bytes of pixel data."""

    def chunk(kind, data):
        return (
            struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
        )

    header = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)  # 8-bit grey
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00" * 64))
        + chunk(b"IEND", b"")
    )


def opened(receipt):
    content = receipt.file.read()
    receipt.file.seek(0)
    return Image.open(io.BytesIO(content)), content


# Types, by content only


@pytest.mark.parametrize(
    ("head", "expected"),
    [
        (b"\xff\xd8\xff\xe0\x00\x10JFIF", JPEG),
        (b"\x89PNG\r\n\x1a\n\x00\x00\x00\x0dIHDR", PNG),
        (b"RIFF\x24\x00\x00\x00WEBPVP8 ", WEBP),
        (b"%PDF-1.7\n%\xe2\xe3\xcf\xd3", PDF),
        (b"GIF89a\x01\x00\x01\x00", None),
        (b" %PDF-1.4", None),  # the signature must be at offset 0
        (b"RIFF\x24\x00\x00\x00WAVEfmt ", None),
        (b"", None),
    ],
)
def test_sniff_reads_the_type_from_the_first_bytes(head, expected):
    assert sniff(head) == expected


# Images lose their metadata


def test_a_jpeg_loses_its_exif_and_gps_and_is_turned_upright():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 6  # stored sideways: turn 90° clockwise to view
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0), 3: "E", 4: (2.0, 21.0, 3.0)}
    content = image_bytes("JPEG", size=(40, 20), exif=exif)
    assert Image.open(io.BytesIO(content)).getexif().get_ifd(GPS_IFD)[1] == "N"

    receipt = clean(content, "IMG_0001.JPG")

    image, cleaned = opened(receipt)
    assert image.format == "JPEG"
    assert dict(image.getexif()) == {}
    assert b"Exif" not in cleaned
    assert image.size == (20, 40)
    assert (receipt.type, receipt.filename) == (JPEG, "IMG_0001.JPG")


def test_an_upright_jpeg_keeps_its_quantisation_tables():
    content = image_bytes("JPEG", quality=35)
    source = Image.open(io.BytesIO(content))

    image, _ = opened(clean(content))

    assert image.quantization == source.quantization


@pytest.mark.parametrize("hidden", ["comment", "appended"])
def test_a_script_hidden_in_a_jpeg_does_not_survive(hidden):
    if hidden == "comment":
        content = image_bytes("JPEG", comment=PAYLOAD)
    else:
        content = image_bytes("JPEG") + PAYLOAD
    assert PAYLOAD in content
    Image.open(io.BytesIO(content)).load()  # still a readable JPEG

    _, cleaned = opened(clean(content, "photo.jpg"))

    assert b"<script" not in cleaned


def test_a_png_loses_its_text_chunks_and_what_follows_iend():
    text = PngInfo()
    text.add_text("Comment", PAYLOAD.decode())
    content = image_bytes("PNG", pnginfo=text) + PAYLOAD
    assert Image.open(io.BytesIO(content)).info["Comment"] == PAYLOAD.decode()

    image, cleaned = opened(clean(content, "scan.png"))

    assert image.format == "PNG"
    assert "Comment" not in image.info
    assert b"tEXt" not in cleaned
    assert b"<script" not in cleaned
    assert cleaned.endswith(b"IEND\xaeB`\x82")


def test_a_palette_png_keeps_its_transparency():
    image = Image.new("P", (8, 8), 1)
    image.putpalette([0, 0, 0, 255, 255, 255])
    buffer = io.BytesIO()
    image.save(buffer, "PNG", transparency=0)

    cleaned, _ = opened(clean(buffer.getvalue()))

    assert (cleaned.mode, cleaned.info["transparency"]) == ("P", 0)


def test_an_animated_png_keeps_only_its_first_frame():
    frames = [Image.new("RGB", (8, 8), colour) for colour in ("red", "blue")]
    buffer = io.BytesIO()
    frames[0].save(buffer, "PNG", save_all=True, append_images=frames[1:])
    assert Image.open(io.BytesIO(buffer.getvalue())).n_frames == 2

    image, cleaned = opened(clean(buffer.getvalue()))

    assert image.n_frames == 1
    assert b"acTL" not in cleaned
    assert image.convert("RGB").getpixel((0, 0)) == (255, 0, 0)


@pytest.mark.skipif(not features.check("webp"), reason="Pillow built without WebP")
def test_a_webp_is_accepted_without_its_metadata():
    exif = Image.Exif()
    exif[GPS_IFD] = {1: "N", 2: (48.0, 51.0, 24.0)}
    content = image_bytes("WEBP", exif=exif, xmp=b"<x:xmpmeta>" + PAYLOAD + b"</x:xmpmeta>")
    source = Image.open(io.BytesIO(content))
    assert "exif" in source.info and "xmp" in source.info

    receipt = clean(content, "photo.webp")

    image, cleaned = opened(receipt)
    assert (image.format, receipt.type, receipt.filename) == ("WEBP", WEBP, "photo.webp")
    assert "exif" not in image.info and "xmp" not in image.info
    assert b"EXIF" not in cleaned and b"XMP " not in cleaned and b"<script" not in cleaned


def test_cleaning_the_same_image_twice_gives_the_same_bytes_and_hash():
    exif = Image.Exif()
    exif[ExifTags.Base.Orientation] = 3
    content = image_bytes("JPEG", exif=exif)

    first, second = clean(content), clean(content)

    cleaned = first.file.read()
    assert first.sha256 == second.sha256 == hashlib.sha256(cleaned).hexdigest()
    assert first.size == len(cleaned)
    assert cleaned != content


# PDFs are kept as sent


def test_a_pdf_is_kept_byte_for_byte():
    receipt = clean(MINIMAL_PDF, "invoice.pdf")

    assert receipt.file.read() == MINIMAL_PDF
    assert receipt.sha256 == hashlib.sha256(MINIMAL_PDF).hexdigest()
    assert (receipt.size, receipt.type, receipt.filename) == (len(MINIMAL_PDF), PDF, "invoice.pdf")


def test_a_pdf_may_end_in_whitespace_after_eof():
    receipt = clean(MINIMAL_PDF + b"\r\n  \n")

    assert receipt.type == PDF


# Anything else is refused with 415


def jpeg():
    return image_bytes("JPEG")


REFUSED = {
    "renamed executable": (b"MZ\x90\x00\x03\x00\x00\x00\x04\x00" + bytes(118), "receipt.jpg"),
    "html named pdf": (b"<!DOCTYPE html><html><body>" + PAYLOAD + b"</body></html>", "x.pdf"),
    "text": (b"Lunch 12.50 EUR\n", "receipt.txt"),
    "html with a jpeg inside": (b"<html>" + jpeg() + b"</html>", "photo.jpg"),
    "gif": (image_bytes("GIF"), "photo.gif"),
}


@pytest.mark.parametrize("case", REFUSED)
def test_a_file_that_is_none_of_the_accepted_types_is_refused(case):
    content, filename = REFUSED[case]

    with pytest.raises(UnsupportedMediaType) as refused:
        clean(content, filename)

    assert refused.value.status_code == 415
    assert refused.value.message == (
        f"“{filename}” is not a {ACCEPTED} file. Upload a photo or scan of the receipt in one "
        "of those formats."
    )


def test_a_truncated_png_is_refused_as_damaged():
    whole = noise_png()
    clean(whole)  # the whole file is fine
    half = whole[: len(whole) // 2]
    assert Image.open(io.BytesIO(half)).size == (64, 64)  # its header still reads

    with pytest.raises(UnsupportedMediaType) as refused:
        clean(half, "scan.png")

    assert refused.value.message.startswith("“scan.png” looks like a PNG but could not be read")


def test_jpeg_magic_followed_by_garbage_is_refused_as_damaged():
    content = b"\xff\xd8\xff\xe0" + b"not really a jpeg " * 20
    assert sniff(content) == JPEG

    with pytest.raises(UnsupportedMediaType) as refused:
        clean(content, "photo.jpg")

    assert refused.value.message.startswith("“photo.jpg” looks like a JPEG but could not be read")


@pytest.mark.parametrize(
    "content",
    [
        MINIMAL_PDF.replace(b"%%EOF", b"%%END"),
        MINIMAL_PDF.replace(b"%PDF-1.4", b"%PDF-xx."),
        MINIMAL_PDF + b"\n" * 1024,  # %%EOF no longer in the last 1024 bytes
    ],
    ids=["no eof", "no version", "eof too early"],
)
def test_a_pdf_that_does_not_look_complete_is_refused(content):
    assert sniff(content) == PDF

    with pytest.raises(UnsupportedMediaType) as refused:
        clean(content, "invoice.pdf")

    assert refused.value.message.startswith("“invoice.pdf” looks like a PDF but is incomplete")


def test_an_empty_file_is_refused_saying_so():
    with pytest.raises(UnsupportedMediaType) as refused:
        clean(b"", "photo.jpg")

    assert refused.value.message.startswith("“photo.jpg” is empty.")


def test_a_refusal_names_a_file_without_a_name_plainly():
    with pytest.raises(UnsupportedMediaType) as refused:
        clean(b"hello", None)

    assert refused.value.message.startswith("This file is not a JPEG, PNG, WebP or PDF file.")


# Size limits


def pdf_of_size(size):
    filler = size - len(MINIMAL_PDF)
    return MINIMAL_PDF.replace(b"trailer", b"%" + b"x" * (filler - 2) + b"\ntrailer")


def test_a_file_of_exactly_the_limit_is_accepted():
    content = pdf_of_size(64 * 1024)
    assert len(content) == 64 * 1024

    receipt = clean(content, max_bytes=64 * 1024)

    assert receipt.size == 64 * 1024


class Unread(io.BytesIO):
    """Fails the test if anything reads it."""

    def read(self, size=-1):
        raise AssertionError("read an oversized upload")


def test_a_file_one_byte_over_the_limit_is_refused_without_reading_it():
    content = pdf_of_size(64 * 1024 + 1)

    with pytest.raises(TooLarge) as refused:
        clean_receipt(Unread(content), "scan.pdf", max_bytes=64 * 1024)

    assert refused.value.status_code == 413
    assert refused.value.message == (
        "“scan.pdf” is 64.1 KB; receipts can be at most 64 KB each. Take a smaller photo or "
        "scan, or compress the PDF."
    )


def test_the_limit_is_stated_in_megabytes():
    with pytest.raises(TooLarge) as refused:
        clean_receipt(Unread(bytes(13_000_000)), None, max_bytes=MAX_BYTES)

    assert refused.value.message.startswith(
        "This file is 12.4 MB; receipts can be at most 10 MB each."
    )


def test_an_image_over_the_pixel_limit_is_refused():
    content = image_bytes("PNG", size=(100, 100))
    clean(content)  # fine under the default limit

    with pytest.raises(TooLarge) as refused:
        clean(content, "scan.png", max_pixels=5000)

    assert refused.value.message.startswith(
        "“scan.png” is 100 \N{MULTIPLICATION SIGN} 100 pixels; "
        "receipts can be at most 0.005 megapixels."
    )


def test_an_image_whose_header_claims_too_many_pixels_is_refused_before_decoding():
    content = png_declaring(8000, 8000)
    assert Image.open(io.BytesIO(content)).size == (8000, 8000)

    with pytest.raises(TooLarge) as refused:
        clean(content)

    assert refused.value.message.startswith(
        "“receipt” is 8,000 \N{MULTIPLICATION SIGN} 8,000 pixels; "
        "receipts can be at most 50 megapixels."
    )


def test_a_decompression_bomb_is_refused_as_too_large():
    content = png_declaring(100_000, 100_000)
    with pytest.raises(Image.DecompressionBombError):
        Image.open(io.BytesIO(content))

    with pytest.raises(TooLarge) as refused:
        clean(content, None)

    assert refused.value.message.startswith("This image has too many pixels to open;")


# Names


# Decoding work is bounded before decoding


def test_a_jpeg_with_thousands_of_scans_is_refused_before_it_is_decoded():
    bomb = scan_bomb(side=4000, repeats=20_000)  # 7 to 19 s of a CPU to decode

    with pytest.raises(UnprocessableFile) as refused:
        clean(bomb, "scan.jpg")

    assert refused.value.message == (
        f"“scan.jpg” is a JPEG with more than {MAX_JPEG_SCANS} scans, more than any camera "
        "or scanner writes, and would take too long to open. Export or photograph the "
        "receipt again and upload the new file."
    )


@pytest.mark.parametrize(
    ("side", "noise"), [(64, False), (1500, True)], ids=["short-scans", "scans-of-100s-of-KB"]
)
def test_one_scan_over_the_limit_is_refused_and_the_limit_itself_is_not(side, noise):
    at_limit = scan_bomb(side=side, repeats=MAX_JPEG_SCANS - 10, noise=noise)
    assert len(jpeg_scans(at_limit)) == MAX_JPEG_SCANS

    assert clean(at_limit).type == JPEG
    with pytest.raises(UnprocessableFile):
        clean(scan_bomb(side=side, repeats=MAX_JPEG_SCANS - 9, noise=noise))


@pytest.mark.parametrize(("mode", "scans"), [("RGB", 10), ("L", 6), ("CMYK", 18)])
def test_progressive_jpegs_as_encoders_write_them_are_accepted(mode, scans):
    content = progressive_jpeg(mode)
    assert len(jpeg_scans(content)) == scans

    image, _ = opened(clean(content))

    assert image.mode == mode


# Colour profiles: kept only when they are one


def srgb_profile():
    return ImageCms.ImageCmsProfile(ImageCms.createProfile("sRGB")).tobytes()


def with_private_tag(profile, size):
    """`profile` with one more tag of `size` bytes: still a valid ICC profile."""
    count = int.from_bytes(profile[128:132], "big")
    table_end = 132 + 12 * count
    entries = [
        (
            profile[at : at + 4],
            int.from_bytes(profile[at + 4 : at + 8], "big") + 12,
            int.from_bytes(profile[at + 8 : at + 12], "big"),
        )
        for at in range(132, table_end, 12)
    ]
    body = profile[table_end:]
    body += b"\0" * (-len(body) % 4)
    tag = b"data" + b"\0" * 4 + bytes(size - 8)
    entries.append((b"zzzz", table_end + 12 + len(body), len(tag)))
    table = b"".join(
        sig + offset.to_bytes(4, "big") + length.to_bytes(4, "big")
        for sig, offset, length in entries
    )
    header = bytearray(profile[:128])
    header[84:100] = bytes(16)  # the profile ID (an MD5) no longer matches: none
    whole = bytes(header) + len(entries).to_bytes(4, "big") + table + body + tag
    return len(whole).to_bytes(4, "big") + whole[4:]


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP"])
def test_a_real_colour_profile_is_kept(image_format):
    profile = srgb_profile()

    image, _ = opened(clean(image_bytes(image_format, icc_profile=profile)))

    kept = ImageCms.ImageCmsProfile(io.BytesIO(image.info["icc_profile"]))
    assert kept.profile.profile_description == "sRGB built-in"


@pytest.mark.parametrize("image_format", ["JPEG", "WEBP"])
@pytest.mark.parametrize(
    "profile",
    [
        PAYLOAD.ljust(128, b" "),  # text where the profile should be
        hashlib.shake_256(b"noise").digest(5 * 1024 * 1024),  # 5 MiB of anything
    ],
    ids=["text", "random-5MiB"],
)
def test_bytes_that_are_no_colour_profile_are_dropped(image_format, profile):
    content = image_bytes(image_format, icc_profile=profile)
    assert profile[:64] in content

    image, cleaned = opened(clean(content))

    assert "icc_profile" not in image.info
    assert profile[:64] not in cleaned
    assert len(cleaned) < 64 * 1024


def test_a_profile_of_another_colour_space_is_dropped():
    grey = ImageCms.ImageCmsProfile(ImageCms.createProfile("LAB")).tobytes()

    image, _ = opened(clean(image_bytes("JPEG", icc_profile=grey)))

    assert "icc_profile" not in image.info


def test_a_real_profile_over_a_megabyte_is_applied_then_dropped():
    profile = with_private_tag(srgb_profile(), 1024 * 1024 + 8)
    assert len(profile) > 1024 * 1024
    ImageCms.ImageCmsProfile(io.BytesIO(profile))  # parses: a real profile, if a fat one

    image, cleaned = opened(clean(image_bytes("JPEG", quality=95, icc_profile=profile)))

    assert "icc_profile" not in image.info
    assert len(cleaned) < 64 * 1024
    red = image.getpixel((0, 0))  # sRGB to sRGB: the colours stay as they were
    assert red[0] > 240 and red[1] < 20 and red[2] < 20


@pytest.mark.parametrize(
    ("filename", "receipt_type", "expected"),
    [
        ("../../etc/passwd", PDF, "passwd.pdf"),
        ("C:\\fakepath\\photo.jpg", JPEG, "photo.jpg"),
        ("invoice\u202egpj.exe", JPEG, "invoicegpj.exe.jpg"),
        ("Quittung Köln €.pdf", PDF, "Quittung Köln €.pdf"),
        ("Quittung Ko\u0308ln.pdf", PDF, "Quittung Köln.pdf"),  # decomposed, as macOS sends
        (None, PNG, "receipt.png"),
        ("\ud800.jpg", JPEG, "receipt.jpg"),
        ("   ", JPEG, "receipt.jpg"),
        ("..", WEBP, "receipt.webp"),
        (".htaccess", PNG, "htaccess.png"),
        ("a\x00b\r\n.pdf", PDF, "ab.pdf"),
        ('say "hi".png', PNG, 'say "hi".png'),
        ("invoice.exe", PDF, "invoice.exe.pdf"),
        ("scan.PNG", PNG, "scan.PNG"),
        ("photo.jpeg", JPEG, "photo.jpeg"),
        ("photo.jpeg", PNG, "photo.jpeg.png"),
        ("photo", WEBP, "photo.webp"),
    ],
)
def test_safe_filename(filename, receipt_type, expected):
    assert safe_filename(filename, receipt_type) == expected


def test_a_long_name_is_cut_to_100_characters_keeping_its_extension():
    assert safe_filename("x" * 300 + ".pdf", PDF) == "x" * 96 + ".pdf"
    assert safe_filename("x" * 300 + ".exe", PDF) == "x" * 96 + ".pdf"


@pytest.mark.parametrize(
    ("filename", "receipt_type", "expected"),
    [
        ("photo.jpg", JPEG, "inline; filename=\"photo.jpg\"; filename*=UTF-8''photo.jpg"),
        (
            "Quittung Köln €.pdf",
            PDF,
            'attachment; filename="Quittung K_ln _.pdf"; '
            "filename*=UTF-8''Quittung%20K%C3%B6ln%20%E2%82%AC.pdf",
        ),
        (
            'say "hi"\\.png',
            PNG,
            "inline; filename=\"say hi.png\"; filename*=UTF-8''say%20%22hi%22%5C.png",
        ),
        (
            "a\r\nSet-Cookie: x\u202e.pdf",
            PDF,
            "attachment; filename=\"aSet-Cookie: x.pdf\"; filename*=UTF-8''aSet-Cookie%3A%20x.pdf",
        ),
        ("€", PDF, "attachment; filename=\"_\"; filename*=UTF-8''%E2%82%AC"),
        ('"', WEBP, "inline; filename=\"receipt.webp\"; filename*=UTF-8''%22"),
    ],
)
def test_content_disposition(filename, receipt_type, expected):
    header = content_disposition(filename, receipt_type)

    assert header == expected
    assert header.isascii()
