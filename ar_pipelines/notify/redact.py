"""Secrets out of text: each occurrence of a configured secret becomes ``***``."""

from __future__ import annotations

from collections.abc import Iterable
from urllib.parse import unquote, urlsplit

REDACTED = "***"


class Redactor:
    """Replaces every occurrence of each of its secrets in a text by ``***``.

    Occurrences that overlap or touch, of one secret or of several, become a single
    ``***``, so that no part of any secret is left over. Empty secrets are ignored. The
    ``repr`` tells how many secrets there are, never what they are.
    """

    __slots__ = ("_secrets",)

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        self._secrets: frozenset[str] = frozenset(secret for secret in secrets if secret)

    def __call__(self, text: str) -> str:
        spans: list[tuple[int, int]] = []
        for secret in self._secrets:
            start = text.find(secret)
            while start != -1:
                spans.append((start, start + len(secret)))
                start = text.find(secret, start + 1)
        if not spans:
            return text
        spans.sort()
        pieces: list[str] = []
        written = 0
        span_start, span_end = spans[0]
        for start, end in spans[1:]:
            if start <= span_end:
                span_end = max(span_end, end)
                continue
            pieces += [text[written:span_start], REDACTED]
            written = span_end
            span_start, span_end = start, end
        pieces += [text[written:span_start], REDACTED, text[span_end:]]
        return "".join(pieces)

    def __or__(self, other: Redactor) -> Redactor:
        return Redactor(self._secrets | other._secrets)

    def __bool__(self) -> bool:
        return bool(self._secrets)

    def __repr__(self) -> str:
        return f"Redactor({len(self._secrets)} secrets)"


def url_secrets(url: str) -> tuple[str, ...]:
    """The secret parts of a URL: the whole URL, its path (without the leading slash as
    well), its query, its fragment and its password, each as written and percent-decoded.

    A path of ``/`` alone is no secret. A URL that does not parse still counts as a whole.
    """
    parts: list[str] = [url, url.strip()]
    try:
        split = urlsplit(url.strip())
        password = split.password
    except ValueError:
        return tuple(parts)
    for part in (split.path, split.path.strip("/"), split.query, split.fragment, password):
        if part and part != "/":
            parts += [part, unquote(part)]
    return tuple(dict.fromkeys(parts))
