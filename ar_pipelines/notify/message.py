"""A notification and its renderings: plain text, a Slack payload, a generic JSON payload."""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

# The variable holding the Dagster UI's base URL, for ``run_url``.
DAGSTER_UI_URL_ENV = "AR_DAGSTER_UI_URL"
# The details a rendering shows at most, and the characters of each.
MAX_DETAILS = 10
MAX_DETAIL_CHARS = 250


def run_url(base_url: str | None, run_id: str) -> str | None:
    """The page of a run in the Dagster UI, ``{base_url}/runs/{run_id}``; None without a
    base URL (None or blank)."""
    if base_url is None or not base_url.strip():
        return None
    return f"{base_url.strip().rstrip('/')}/runs/{run_id}"


@dataclass(frozen=True)
class Message:
    """What failed, for one practice.

    ``title`` is one line (``reconciliation NOT clean``, ``nightly_sync run failed``,
    ``source not refreshing``); ``counts`` are named numbers in the order given (matched,
    amount_mismatch, ...); ``details`` are the first mismatches or errors, of which the
    renderings show the first ``MAX_DETAILS``, each on one line of at most
    ``MAX_DETAIL_CHARS`` characters. ``counts`` and ``details`` are copied, so that the
    message does not change with the caller's collections.
    """

    practice_id: str
    title: str
    counts: Mapping[str, int] = field(default_factory=dict)
    details: Sequence[str] = ()
    run_url: str | None = None
    report_path: str | None = None

    def __post_init__(self) -> None:
        if isinstance(self.details, str):
            raise TypeError("a message's details are a sequence of texts, not one text")
        for name in ("practice_id", "title"):
            value = getattr(self, name)
            if not value.strip() or "\n" in value or "\r" in value:
                raise ValueError(f"a message's {name} is one line, not empty")
        object.__setattr__(self, "counts", dict(self.counts))
        object.__setattr__(self, "details", tuple(self.details))

    @property
    def headline(self) -> str:
        """``[ar-pipelines] {practice_id}: {title}``: the email's subject, the text's first
        line."""
        return f"[ar-pipelines] {self.practice_id}: {self.title}"

    def shown_details(self) -> tuple[str, ...]:
        """The details the renderings show: the first ``MAX_DETAILS``, each on one line
        (runs of white space made one space) and cut to ``MAX_DETAIL_CHARS`` characters."""
        return tuple(_one_line(detail) for detail in self.details[:MAX_DETAILS])

    def details_heading(self) -> str:
        total = len(self.details)
        if total > MAX_DETAILS:
            return f"Details (the first {MAX_DETAILS} of {total})"
        return f"Details ({total})"

    def text(self) -> str:
        """The message as plain text: the headline, the counts, the details, the run's link
        and the report's path, the sections without content left out."""
        lines = [self.headline]
        if self.counts:
            lines += ["", "Counts:"]
            lines += [f"  {name}: {value}" for name, value in self.counts.items()]
        if self.details:
            lines += ["", f"{self.details_heading()}:"]
            lines += [f"  - {detail}" for detail in self.shown_details()]
        if self.run_url or self.report_path:
            lines.append("")
        if self.run_url:
            lines.append(f"Run: {self.run_url}")
        if self.report_path:
            lines.append(f"Report: {self.report_path}")
        return "\n".join(lines) + "\n"

    def slack_payload(self) -> dict[str, Any]:
        """A Slack incoming-webhook payload: ``text`` (the plain text, which Slack shows in
        notifications) and ``blocks``, mrkdwn sections of the same content."""
        sections = [f"*{_mrkdwn(self.headline)}*"]
        if self.counts:
            counts = "\n".join(f"{_mrkdwn(name)}: *{value}*" for name, value in self.counts.items())
            sections.append(f"*Counts*\n{counts}")
        if self.details:
            details = "\n".join(f"• {_mrkdwn(detail)}" for detail in self.shown_details())
            sections.append(f"*{self.details_heading()}*\n{details}")
        links = []
        if self.run_url:
            links.append(f"<{_mrkdwn(self.run_url)}|Open the run in Dagster>")
        if self.report_path:
            links.append(f"Report: `{_mrkdwn(self.report_path)}`")
        if links:
            sections.append("\n".join(links))
        return {
            "text": self.text(),
            "blocks": [
                {"type": "section", "text": {"type": "mrkdwn", "text": section}}
                for section in sections
            ],
        }

    def webhook_payload(self) -> dict[str, Any]:
        """The generic JSON payload: ``practice_id``, ``title``, ``counts``, ``details``
        (the shown ones), ``run_url``, ``report_path`` (null when absent) and ``text`` (the
        plain text)."""
        return {
            "practice_id": self.practice_id,
            "title": self.title,
            "counts": dict(self.counts),
            "details": list(self.shown_details()),
            "run_url": self.run_url,
            "report_path": self.report_path,
            "text": self.text(),
        }

    def redacted(self, redact: Callable[[str], str]) -> Message:
        """The same message with ``redact`` applied to each of its texts."""
        return replace(
            self,
            practice_id=redact(self.practice_id),
            title=redact(self.title),
            counts={redact(name): value for name, value in self.counts.items()},
            details=tuple(redact(detail) for detail in self.details),
            run_url=None if self.run_url is None else redact(self.run_url),
            report_path=None if self.report_path is None else redact(self.report_path),
        )


def _one_line(text: str) -> str:
    line = " ".join(text.split())
    if len(line) > MAX_DETAIL_CHARS:
        return line[: MAX_DETAIL_CHARS - 3] + "..."
    return line


def _mrkdwn(text: str) -> str:
    """Slack's three control characters escaped, as its mrkdwn requires."""
    return text.replace("&", "&amp;").replace("<", "&lt;").replace(">", "&gt;")
