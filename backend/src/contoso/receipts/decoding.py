"""Receipt images decoded where a hostile file cannot stall the service.

An image is decoded whole to strip its metadata, and decoding work is the uploader's
to choose: a few hundred KB can keep a decoder busy for minutes. So images are cleaned
in a pool of separate processes (pebble's, which replaces a worker it had to kill
without failing the other workers' jobs), each job under a CPU-time limit (RLIMIT_CPU:
past it the kernel ends the worker) and each worker under an address-space limit and at
a lower CPU priority than the processes that answer requests. PDFs need no decoding:
they are checked in a thread and never wait behind an image.

Files travel by path (temporary files), not through the pipe: a 10 MB upload is never
copied into the request process's memory.
"""

import asyncio
import contextlib
import logging
import math
import multiprocessing
import os
import resource
import shutil
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from concurrent.futures import TimeoutError as FutureTimeout
from typing import IO, BinaryIO, cast

import anyio
from pebble import ProcessExpired, ProcessPool

from contoso.config import Settings
from contoso.errors import TooManyUploads, UnprocessableFile
from contoso.receipts import files
from contoso.receipts.files import CleanReceipt, ReceiptType

logger = logging.getLogger(__name__)

# Workers are recycled now and then, so what a decoder leaves fragmented is given back.
_TASKS_PER_WORKER = 200
# Below the request-serving processes: decoding takes what CPU they leave.
_WORKER_NICENESS = 10
# How long a client is asked to wait when too many of its uploads are in flight.
_RETRY_AFTER_SECONDS = 5


class ReceiptCleaner:
    """Cleans uploads for storage, with the process's limits on decoding work and on
    uploads in flight. One per process; `close` stops its decoding processes."""

    @classmethod
    def from_settings(cls, settings: Settings) -> "ReceiptCleaner":
        return cls(
            max_bytes=settings.receipt_max_bytes,
            decoders=settings.receipt_decoders,
            cpu_seconds=settings.receipt_decode_seconds,
            memory_bytes=settings.receipt_decode_memory_mb * 1024 * 1024,
            per_user=settings.receipt_uploads_per_user,
            per_process=settings.receipt_uploads_per_process,
        )

    def __init__(
        self,
        *,
        max_bytes: int,
        decoders: int,
        cpu_seconds: int,
        memory_bytes: int,
        per_user: int,
        per_process: int,
        max_pixels: int = files.MAX_PIXELS,
        max_jpeg_scans: int = files.MAX_JPEG_SCANS,
    ) -> None:
        self.max_bytes = max_bytes
        self.max_pixels = max_pixels
        self.max_jpeg_scans = max_jpeg_scans
        self._decoders = decoders
        self._cpu_seconds = cpu_seconds
        self._memory_bytes = memory_bytes
        self._per_user = per_user
        self._per_process = per_process
        self._in_flight: Counter[int] = Counter()
        self._pool: ProcessPool | None = None

    @contextlib.asynccontextmanager
    async def turn(self, user_id: int) -> AsyncIterator[None]:
        """Count an upload in flight for `user_id` while the block runs, or refuse it
        with TooManyUploads (429 with Retry-After) past the per-user or per-process cap:
        one employee's flood then takes a bounded share of the decoders and of memory."""
        if self._in_flight[user_id] >= self._per_user:
            raise TooManyUploads(
                f"You have {self._per_user} uploads in progress already; wait for them to "
                f"finish, then try again in {_RETRY_AFTER_SECONDS} seconds.",
                retry_after=_RETRY_AFTER_SECONDS,
            )
        if self._in_flight.total() >= self._per_process:
            logger.warning("uploads refused: %d in flight", self._in_flight.total())
            raise TooManyUploads(
                "Too many receipts are being uploaded right now; try again in "
                f"{_RETRY_AFTER_SECONDS} seconds.",
                retry_after=_RETRY_AFTER_SECONDS,
            )
        self._in_flight[user_id] += 1
        try:
            yield
        finally:
            self._in_flight[user_id] -= 1
            if not self._in_flight[user_id]:
                del self._in_flight[user_id]

    def in_flight(self, user_id: int) -> int:
        """How many of `user_id`'s uploads are being handled now."""
        return self._in_flight[user_id]

    async def clean(self, source: BinaryIO, filename: str | None) -> CleanReceipt:
        """The upload checked and made safe to store (see `files.clean_receipt`); the
        caller closes the result's file. Images are cleaned in a decoding process:
        one that exceeds the CPU-time or memory limit is refused with UnprocessableFile
        (422), which takes at most the CPU-time limit of the decoder's time."""
        receipt_type = await anyio.to_thread.run_sync(
            lambda: files.check_receipt(
                source, filename, max_bytes=self.max_bytes, max_scans=self.max_jpeg_scans
            )
        )
        if receipt_type.is_image:
            cleaned = await self._clean_image(source, receipt_type, filename)
        else:
            cleaned = await anyio.to_thread.run_sync(lambda: files.spool(source))
        file, size, sha256 = cleaned
        return CleanReceipt(
            filename=files.safe_filename(filename, receipt_type),
            type=receipt_type,
            size=size,
            sha256=sha256,
            file=file,
        )

    async def _clean_image(
        self, source: BinaryIO, receipt_type: ReceiptType, filename: str | None
    ) -> tuple[BinaryIO, int, str]:
        # Not `with`: on success the target is the caller's to close.
        original = tempfile.NamedTemporaryFile(prefix="receipt-")  # noqa: SIM115
        target = tempfile.NamedTemporaryFile(prefix="receipt-clean-")  # noqa: SIM115
        try:
            with original:
                await anyio.to_thread.run_sync(_copy, source, original)
                job = self._running_pool().schedule(
                    _clean_in_worker,
                    args=(
                        original.name,
                        target.name,
                        receipt_type.content_type,
                        filename,
                        self.max_pixels,
                        self._cpu_seconds,
                    ),
                    # A backstop for a worker that waits rather than computes: the CPU
                    # limit ends a busy one long before.
                    timeout=max(60, 6 * self._cpu_seconds),
                )
                try:
                    size, sha256 = await asyncio.wrap_future(job)
                except (ProcessExpired, FutureTimeout, MemoryError) as error:
                    raise self._refusal(filename, error) from error
            target.seek(0)
            return cast(BinaryIO, target), size, sha256
        except BaseException:
            target.close()
            raise

    def _refusal(self, filename: str | None, error: BaseException) -> UnprocessableFile:
        name = files.shown_name(filename, "This image")
        if isinstance(error, MemoryError):
            why = "needs more memory to open than a receipt may"
        else:
            why = "takes too long to open"
            logger.warning("an image decoder was stopped: %r", error)
        return UnprocessableFile(
            f"{name} {why}. Export or photograph the receipt again at a lower resolution, "
            "or as a PDF, and upload the new file."
        )

    def start(self) -> None:
        """Start the decoding processes now, so the first upload does not wait for them
        (a second or more: each imports Pillow and this package)."""
        self._running_pool().schedule(os.getpid).result()

    def _running_pool(self) -> ProcessPool:
        # Started on first use, or by `start`.
        if self._pool is not None and not self._pool.active:
            logger.error("the image decoders stopped working; starting new ones")
            self._pool.stop()  # type: ignore[no-untyped-call]  # pebble's are untyped
            self._pool = None
        if self._pool is None:
            context = multiprocessing.get_context("forkserver")
            # Workers start from a fork of a small server process that has imported the
            # decoders (and the main module, which multiprocessing would otherwise run
            # again in every worker) once, never from a fork of this threaded,
            # event-looped process.
            context.set_forkserver_preload(["__main__", __name__])
            self._pool = ProcessPool(
                max_workers=self._decoders,
                max_tasks=_TASKS_PER_WORKER,
                initializer=_limit_worker,
                initargs=(self._memory_bytes,),
                context=context,
            )
        return self._pool

    def close(self) -> None:
        """Stop the decoding processes (at shutdown); jobs still running are ended."""
        if self._pool is not None:
            self._pool.stop()  # type: ignore[no-untyped-call]  # pebble's are untyped
            self._pool.join()
            self._pool = None


def _copy(source: BinaryIO, target: IO[bytes]) -> None:
    source.seek(0)
    shutil.copyfileobj(source, target)
    target.flush()


def _limit_worker(memory_bytes: int) -> None:
    """In each decoding process, once: its memory cap, no core dumps when the CPU-time
    limit ends it, and a lower priority than the request-serving processes."""
    resource.setrlimit(resource.RLIMIT_AS, (memory_bytes, memory_bytes))
    resource.setrlimit(resource.RLIMIT_CORE, (0, 0))
    os.nice(_WORKER_NICENESS)


def _clean_in_worker(
    original: str,
    target: str,
    content_type: str,
    filename: str | None,
    max_pixels: int,
    cpu_seconds: int,
) -> tuple[int, str]:
    """In a decoding process: clean the image at `original` into `target`; its size and
    SHA-256. The kernel ends the process (SIGXCPU) if this job's CPU time passes
    `cpu_seconds`."""
    receipt_type = files.stored_type(content_type)  # by value: identity does not survive a pipe
    with (
        _cpu_time_limit(cpu_seconds),
        open(original, "rb") as source,
        open(target, "w+b") as cleaned,
    ):
        files.clean_image(source, cleaned, receipt_type, filename, max_pixels)
        cleaned.seek(0)
        return files.measure(cleaned)


@contextlib.contextmanager
def _cpu_time_limit(seconds: int) -> Iterator[None]:
    """RLIMIT_CPU counts the whole process's CPU time: allow `seconds` more than this
    worker has used so far, and lift the limit again after the job."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    used = math.ceil(usage.ru_utime + usage.ru_stime)
    _, hard = resource.getrlimit(resource.RLIMIT_CPU)
    resource.setrlimit(resource.RLIMIT_CPU, (used + seconds, hard))
    try:
        yield
    finally:
        resource.setrlimit(resource.RLIMIT_CPU, (hard, hard))
