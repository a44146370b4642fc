"""Ratings pre-serialised as JSON text, so that serving a page is one slice of bytes.

Serialising records is most of what a page costs once the window is found: building 10,000 dicts
and encoding them takes milliseconds. Here every rating is rendered once, at start-up, as
``{"userId":…,"movieId":…,"rating":…,"timestamp":…},`` into one contiguous buffer in the store's
order, with an offsets array: records ``[lo, hi)`` are ``data[offsets[lo]:offsets[hi] - 1]`` (the
last comma dropped). The text is byte-for-byte what ``orjson.dumps`` gives for the same records.

The text costs about 75 bytes per rating (with its offset), so it is bounded by a budget
(``--json-cache-mb``, default 512 MB): the *newest* ratings that fit are rendered, the suffix
``[first, n)`` of the store's timestamp order, because daily pipelines fetch recent days. Older
records are serialised per request as before. A 1M-rating dataset fits entirely; of ml-25m's
25M, about the newest 7M do, which keeps the server's memory bounded even after every page has
been read. Rendering is vectorised with pyarrow (about 0.1 µs per record) and streamed in slices;
with a columnar cache it goes to a file that workers share through the page cache.
"""

from __future__ import annotations

import io
import os
from pathlib import Path
from typing import IO, Any

import numpy as np

DEFAULT_BUDGET_MB = 512
DATA_FILE = "ratings_json.bin"
OFFSETS_FILE = "ratings_json_offsets.npy"
#: Ratings rendered per pyarrow call: bounds the temporary memory (about 120 MB) and keeps
#: pyarrow's 32-bit string offsets far from overflowing.
SLICE = 1 << 20
#: ``rating`` as orjson writes a float, indexed by half-stars (0 is never a valid rating).
_RATING_TEXT = ["0.0", "0.5", "1.0", "1.5", "2.0", "2.5", "3.0", "3.5", "4.0", "4.5", "5.0"]
#: Bytes of one record besides its numbers: keys, punctuation, the 3-character rating, the comma,
#: plus its 8-byte offset.
_FIXED_BYTES = len('{"userId":,"movieId":,"rating":,"timestamp":},') + 3 + 8
_POWERS_OF_TEN = np.array([10**k for k in range(19)], dtype=np.int64)


class RatingsJson:
    """JSON text of the ratings ``[first, stop)`` in store order, and where each record starts."""

    def __init__(self, data: np.ndarray, offsets: np.ndarray, first: int = 0) -> None:
        if offsets.ndim != 1 or offsets.shape[0] < 1 or int(offsets[-1]) != data.shape[0] or first < 0:
            raise ValueError("offsets do not describe the rendered data")
        self._data = data
        self._offsets = offsets
        self.first = first

    @property
    def stop(self) -> int:
        """One past the last rendered rating (the store's size)."""
        return self.first + int(self._offsets.shape[0]) - 1

    def records(self, lo: int, hi: int) -> bytes:
        """The JSON array of records ``[lo, hi)``, with ``lo >= first`` (``hi`` clamped like a slice)."""
        if lo < self.first:
            raise IndexError(f"rating {lo} is before the first rendered one ({self.first})")
        hi = min(hi, self.stop)
        if hi <= lo:
            return b"[]"
        start, end = int(self._offsets[lo - self.first]), int(self._offsets[hi - self.first]) - 1
        return b"[" + self._data[start:end].tobytes() + b"]"

    @classmethod
    def render(cls, columns: Columns, first: int = 0) -> RatingsJson:
        """Render ratings ``[first, n)`` of sorted columns in memory."""
        sink = io.BytesIO()
        offsets = render_to(sink, columns, first)
        return cls(np.frombuffer(sink.getbuffer(), dtype=np.uint8), offsets, first)

    @classmethod
    def write(cls, directory: Path, columns: Columns, first: int = 0) -> None:
        """Render ratings ``[first, n)`` into ``directory`` (the cache entry being written)."""
        with open(directory / DATA_FILE, "wb") as sink:
            offsets = render_to(sink, columns, first)
            sink.flush()
            os.fsync(sink.fileno())
        np.save(directory / OFFSETS_FILE, offsets)

    @classmethod
    def load(cls, directory: Path, n_ratings: int) -> RatingsJson:
        """Memory-map a rendering written by :meth:`write`; ``ValueError`` if it does not fit."""
        offsets = np.load(directory / OFFSETS_FILE, mmap_mode="r")
        size = (directory / DATA_FILE).stat().st_size
        first = n_ratings + 1 - offsets.shape[0] if offsets.ndim == 1 else -1
        if not 0 <= first <= n_ratings or int(offsets[-1]) != size:
            raise ValueError("rendered ratings do not match the cached arrays")
        # np.memmap cannot map an empty file.
        data = np.memmap(directory / DATA_FILE, dtype=np.uint8, mode="r") if size else np.empty(0, np.uint8)
        return cls(data, offsets, first)


#: ``(timestamp, user, movie, half_stars)``: sorted rating columns (numpy arrays or memory maps).
Columns = tuple[Any, Any, Any, Any]


def _digits(values: np.ndarray) -> np.ndarray:
    """Decimal characters of each integer (a sign included); approximate beyond 10^18."""
    magnitude = np.abs(values.astype(np.int64))
    count = np.maximum(np.searchsorted(_POWERS_OF_TEN, magnitude, side="right"), 1)
    return count + (values < 0)


def first_within_budget(columns: Columns, budget_bytes: int) -> int:
    """The first rating to render so that ``[first, n)`` (text + offsets) fits ``budget_bytes``."""
    timestamp, user, movie, _ = columns
    n = int(np.asarray(timestamp).shape[0])
    used = 0
    for hi in range(n, 0, -SLICE):  # newest first, a slice at a time
        lo = max(hi - SLICE, 0)
        sizes = _FIXED_BYTES + _digits(np.asarray(user[lo:hi])) + _digits(np.asarray(movie[lo:hi]))
        sizes += _digits(np.asarray(timestamp[lo:hi]))
        newest_first = np.cumsum(sizes[::-1]) + used
        fits = int(np.searchsorted(newest_first, budget_bytes, side="right"))
        if fits < hi - lo:
            return hi - fits
        used = int(newest_first[-1])
    return 0


def render_to(sink: IO[bytes], columns: Columns, first: int = 0) -> np.ndarray:
    """Write records ``[first, n)``, each followed by a comma, to ``sink``; return their offsets."""
    import pyarrow as pa
    import pyarrow.compute as pc

    timestamp, user, movie, half_stars = columns
    rating_text = pa.array(_RATING_TEXT)
    n = int(np.asarray(timestamp).shape[0])
    offsets = np.empty(n - first + 1, dtype=np.int64)
    offsets[0] = 0
    written = 0
    for lo in range(first, n, SLICE):
        hi = min(lo + SLICE, n)
        text = pc.binary_join_element_wise(
            '{"userId":',
            pc.cast(pa.array(np.asarray(user[lo:hi])), pa.string()),
            ',"movieId":',
            pc.cast(pa.array(np.asarray(movie[lo:hi])), pa.string()),
            ',"rating":',
            rating_text.take(pa.array(np.asarray(half_stars[lo:hi]))),
            ',"timestamp":',
            pc.cast(pa.array(np.asarray(timestamp[lo:hi])), pa.string()),
            "},",
            "",
        )
        starts = np.frombuffer(text.buffers()[1], dtype=np.int32)[text.offset : text.offset + hi - lo + 1]
        buffer = memoryview(text.buffers()[2])[int(starts[0]) : int(starts[-1])]
        sink.write(buffer)
        offsets[lo - first + 1 : hi - first + 1] = starts[1:] - starts[0] + written
        written += int(starts[-1]) - int(starts[0])
    return offsets
