"""Removal of a connection's credentials from every text the provider shows (errors, logs, messages).

A server or proxy may echo what it received: the password itself, the ``Authorization`` header
(``Basic`` and the base64 of ``login:password``) or a URL carrying the password percent-encoded. A
:class:`Redactor` knows every such form of one connection's credentials and replaces each with
``***``; :class:`~airflow_movielens.hooks.MovielensHook` sends every exception, log line and
connection-test message through one.
"""

from __future__ import annotations

import base64
import json
import re
from collections.abc import Iterable
from urllib.parse import quote, quote_plus

MASK = "***"

#: Characters ``requests`` leaves unquoted when it normalises a URL (``requests.utils.requote_uri``).
_URI_SAFE = "!#$%&'()*+,/:;=?@[]~"
_PERCENT_ESCAPE = re.compile(r"%[0-9A-F]{2}")


def _percent_forms(text: str) -> set[str]:
    """``text`` as URL quoting writes it: quote and quote_plus, common safe sets, either hex case."""
    forms: set[str] = set()
    for encoding in ("utf-8", "latin-1"):
        try:
            text.encode(encoding)
        except UnicodeEncodeError:
            continue
        for safe in ("", "/", _URI_SAFE):
            forms.add(quote(text, safe=safe, encoding=encoding))
            forms.add(quote_plus(text, safe=safe, encoding=encoding))
    forms |= {_PERCENT_ESCAPE.sub(lambda m: m.group().lower(), form) for form in forms}
    return forms


def _basic_auth_forms(login: str, password: str) -> set[str]:
    """The ``Authorization`` header value and its base64 part, standard and URL-safe, padded or not."""
    forms: set[str] = set()
    for encoding in ("latin-1", "utf-8"):  # requests encodes str credentials as latin-1
        try:
            raw = f"{login}:{password}".encode(encoding)
        except UnicodeEncodeError:
            continue
        for encoded in (base64.b64encode(raw).decode(), base64.urlsafe_b64encode(raw).decode()):
            forms |= {encoded, encoded.rstrip("=")}
            forms |= {f"Basic {encoded}", f"basic {encoded}"}
    return forms


def _escaped(forms: Iterable[str]) -> set[str]:
    """The forms as they look inside a Python ``repr`` or a JSON string (quotes, backslashes escaped)."""
    escaped: set[str] = set()
    for form in forms:
        escaped.add(repr(form)[1:-1])
        escaped.add(json.dumps(form)[1:-1])
        escaped.add(json.dumps(form, ensure_ascii=False)[1:-1])
    return escaped


#: Shorter extra secrets are not masked: masking "1" or "abc" would garble every message.
MIN_SECRET_LENGTH = 6


def credential_forms(login: str | None, password: str | None, secrets: Iterable[str] = ()) -> frozenset[str]:
    """Every text that would reveal ``password`` or one of ``secrets`` (e.g. an API-key header value).

    Empty when there is nothing to protect; ``secrets`` shorter than :data:`MIN_SECRET_LENGTH` are skipped.
    """
    forms = {secret for secret in secrets if len(secret) >= MIN_SECRET_LENGTH}
    if password:
        forms.add(password)
        if login is not None:
            forms |= _basic_auth_forms(login, password)
    if not forms:
        return frozenset()
    for form in list(forms):  # a URL may carry the header or its base64 as well as the password
        forms |= _percent_forms(form)
    forms |= _escaped(forms)
    return frozenset(form for form in forms if form)


class Redactor:
    """Replace every form of one connection's credentials (see :func:`credential_forms`) with ``***``."""

    def __init__(
        self, login: str | None = None, password: str | None = None, *, secrets: Iterable[str] = ()
    ) -> None:
        forms = sorted(credential_forms(login, password, secrets), key=len, reverse=True)  # longest first
        #: The masked texts, longest first.
        self.forms: tuple[str, ...] = tuple(forms)
        self._pattern = re.compile("|".join(map(re.escape, forms))) if forms else None
        self._longest = max((len(form.encode()) for form in forms), default=0)

    def __call__(self, text: str) -> str:
        """``text`` with every form of the credentials masked."""
        if self._pattern is None:
            return text
        return self._pattern.sub(MASK, text)

    def excerpt(self, data: bytes, limit: int) -> str:
        """The first ``limit`` characters of a body, masked, never ending in part of a secret.

        Masking after cutting could leave the start of a secret that the cut split; masking the
        whole body could be slow for a large one. Enough bytes are decoded for the secrets that start
        within ``limit`` characters to be matched whole; text beyond ``limit`` is dropped.
        """
        text = data[: 4 * limit + self._longest].decode("utf-8", "replace")
        if self._pattern is None:
            return text[:limit]
        parts: list[str] = []
        position = 0
        for match in self._pattern.finditer(text):
            if match.start() >= limit:
                break
            parts += [text[position : match.start()], MASK]
            position = match.end()
        if position < limit:
            parts.append(text[position:limit])
        return "".join(parts)

    def scrub(self, exc: BaseException) -> None:
        """Mask the credentials in ``exc`` in place: its args, string attributes, causes and contexts."""
        if self._pattern is None:
            return
        pending: list[BaseException] = [exc]
        seen: set[int] = set()
        while pending:
            current = pending.pop()
            if id(current) in seen:
                continue
            seen.add(id(current))
            current.args = tuple(self(arg) if isinstance(arg, str) else arg for arg in current.args)
            for name, value in list(vars(current).items()):
                if isinstance(value, str):
                    setattr(current, name, self(value))
            linked = [*current.args, current.__cause__, current.__context__]
            pending += [item for item in linked if isinstance(item, BaseException)]
