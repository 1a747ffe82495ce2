"""Receipt uploads: CLIENTS clients at once, each filing a ticket and attaching 1 MiB
receipts to it (ten, the most a ticket takes), then the next ticket."""

import asyncio
import contextlib
import io
import itertools
import os
import statistics
import time
from collections.abc import Iterator

import httpx
from PIL import Image

from bench.report import Result

CLIENTS = 16
SIZE = 1024 * 1024
RECEIPTS_PER_TICKET = 10


async def file_ticket(http: httpx.AsyncClient, amount: str, description: str) -> int | None:
    """A new ticket of the client's employee (its own amount: no ticket here is a
    possible duplicate of another); its id, or None if refused."""
    filed = await http.post(
        "/api/tickets",
        json={"spent_on": "2026-01-15", "amount": amount, "description": description},
    )
    return filed.json()["id"] if filed.status_code == 201 else None


def photo(size: int = SIZE) -> bytes:
    """A JPEG of about `size` bytes: noise, which compresses about as badly as a photo
    of a crumpled receipt, at the camera's usual quality."""
    side = 400
    while True:
        noise = Image.frombytes("RGB", (side, side), os.urandom(side * side * 3))
        out = io.BytesIO()
        noise.save(out, "JPEG", quality=85)
        if out.tell() >= size * 0.95:
            return out.getvalue()
        side = int(side * 1.1)


def scan(size: int = SIZE, serial: bytes = b"") -> bytes:
    """A PDF of exactly `size` bytes (padding in a comment), stored as sent; `serial`
    makes it a file of its own, as every scanned receipt is (identical files are
    possible duplicates of each other, a search of its own that grew with every run
    on a reused database)."""
    head, tail = b"%PDF-1.4\n%" + serial, b"\n%%EOF\n"
    return head + b"x" * (size - len(head) - len(tail)) + tail


async def upload_burst(
    server_url: str, server_name: str, tokens: list[str], kind: str, seconds: int
) -> Result:
    """Upload `kind` ("photo" or "scan") receipts for `seconds`; latency per upload."""
    body, filename, content_type = (
        (photo(), "receipt.jpg", "image/jpeg")
        if kind == "photo"
        else (scan(), "receipt.pdf", "application/pdf")
    )
    latencies: list[float] = []
    errors = 0
    amounts = itertools.count(1)
    deadline = time.monotonic() + seconds

    async def client(token: str) -> None:
        nonlocal errors
        headers = {"Authorization": f"Bearer {token}"}
        async with httpx.AsyncClient(base_url=server_url, headers=headers, timeout=60) as http:
            while time.monotonic() < deadline:
                ticket = await file_ticket(http, f"{next(amounts)}.25", "Benchmark hotel")
                if ticket is None:
                    errors += 1
                    continue
                for _ in range(RECEIPTS_PER_TICKET):
                    if time.monotonic() >= deadline:
                        break
                    sent = scan(serial=os.urandom(16).hex().encode()) if kind == "scan" else body
                    started = time.perf_counter()
                    response = await http.post(
                        f"/api/tickets/{ticket}/receipts",
                        files={"file": (filename, sent, content_type)},
                    )
                    latencies.append((time.perf_counter() - started) * 1000)
                    errors += response.status_code != 201

    started = time.monotonic()
    await asyncio.gather(*(client(token) for token in tokens[:CLIENTS]))
    elapsed = time.monotonic() - started
    latencies.sort()
    count = len(latencies)
    return Result(
        f"receipt uploads, 1 MiB {'photos (JPEG)' if kind == 'photo' else 'scans (PDF)'}",
        server_name,
        CLIENTS,
        requests_per_s=count / elapsed,
        p50_ms=statistics.median(latencies) if latencies else 0.0,
        p99_ms=latencies[int(count * 0.99)] if latencies else 0.0,
        errors=errors,
        requests=count,
        note=f"{count * len(body) / elapsed / 2**20:.0f} MiB/s in",
    )


@contextlib.contextmanager
def on_load_core(core: str | None) -> Iterator[None]:
    """Run this process (the upload clients) on the load generator's core, as wrk runs,
    and give it back every core after (servers started later inherit them)."""
    every = os.sched_getaffinity(0)
    if core is not None:
        os.sched_setaffinity(0, {int(core)})
    try:
        yield
    finally:
        os.sched_setaffinity(0, every)


FLOOD_CLIENTS = 20


def heavy_png(side: int = 7000) -> bytes:
    """A 49-megapixel PNG of about 160 KB: under every limit, and a second or two of a
    decoder's CPU (the probe's flood sent a 190 KB 7000 x 7000 PNG)."""
    out = io.BytesIO()
    Image.linear_gradient("L").resize((side, side)).convert("RGB").save(out, "PNG")
    return out.getvalue()


async def flood(server_url: str, token: str, seconds: float) -> dict[str, int]:
    """One employee's FLOOD_CLIENTS clients uploading heavy PNGs back to back for
    `seconds`, never waiting for Retry-After; how the server answered, by status."""
    body = heavy_png()
    amounts = itertools.count(1)
    answers: dict[str, int] = {}
    deadline = time.monotonic() + seconds
    headers = {"Authorization": f"Bearer {token}"}

    async def client(http: httpx.AsyncClient) -> None:
        ticket = None
        while time.monotonic() < deadline:
            if ticket is None:
                ticket = await file_ticket(http, f"{next(amounts)}.75", "Benchmark flood")
                continue
            response = await http.post(
                f"/api/tickets/{ticket}/receipts",
                files={"file": ("flood.png", body, "image/png")},
            )
            answers[str(response.status_code)] = answers.get(str(response.status_code), 0) + 1
            if response.status_code == 409:  # ten receipts: the next ticket
                ticket = None

    limits = httpx.Limits(max_connections=FLOOD_CLIENTS)
    async with httpx.AsyncClient(
        base_url=server_url, headers=headers, timeout=120, limits=limits
    ) as http:
        with contextlib.suppress(httpx.HTTPError):
            await asyncio.gather(*(client(http) for _ in range(FLOOD_CLIENTS)))
    return answers


if __name__ == "__main__":
    # python -m bench.uploads URL TOKEN SECONDS: the flood alone, its answers on stdout.
    import json
    import sys

    print(json.dumps(asyncio.run(flood(sys.argv[1], sys.argv[2], float(sys.argv[3])))))
