"""The seed's client approach, re-implemented for comparison (not copied).

``naive_ratings`` behaves like the seed's pagination loop: a ``requests`` session, one GET per page,
``response.json()``, advancing the offset by the *requested* batch size until ``offset >= total``
(so it would silently skip records if a server clamped ``limit``; the benchmark only uses batch
sizes at or below the server's cap, where it returns the right records). It has no timeouts or
retries, like the seed. ``naive_fetch_to_file`` is the seed's fetch task: collect every record of the
window in a list, then ``json.dump`` the list.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import requests


def naive_ratings(
    base_url: str,
    auth: tuple[str, str],
    start_date: str | None,
    end_date: str | None,
    batch_size: int,
) -> Iterator[dict[str, Any]]:
    """Yield the window's ratings page by page, advancing by ``batch_size`` (the seed's loop)."""
    session = requests.Session()
    session.auth = auth
    offset = 0
    total: int | None = None
    try:
        while total is None or offset < total:
            params: dict[str, Any] = {"offset": offset, "limit": batch_size}
            if start_date:
                params["start_date"] = start_date
            if end_date:
                params["end_date"] = end_date
            response = session.get(base_url + "/ratings", params=params)
            response.raise_for_status()
            body = response.json()
            yield from body["result"]
            offset += batch_size
            total = body["total"]
    finally:
        session.close()


def naive_fetch_to_file(
    base_url: str,
    auth: tuple[str, str],
    start_date: str | None,
    end_date: str | None,
    batch_size: int,
    output_path: Path,
) -> int:
    """The seed's fetch task: the whole window in a list, then one ``json.dump``. Returns the count."""
    ratings = list(naive_ratings(base_url, auth, start_date, end_date, batch_size))
    output_path.parent.mkdir(parents=True, exist_ok=True)
    with output_path.open("w") as handle:
        json.dump(ratings, handle)
    return len(ratings)
