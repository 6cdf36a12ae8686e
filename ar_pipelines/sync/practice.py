"""What a practice's steps read of it: the project's id, and Sikka's for it."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Protocol


class SourcedPractice(Protocol):
    """A practice as its extract and normalization read it (``defs.practices.Practice``
    is one): ``id``, the project's id, under which its rows are stored; and
    ``sikka_practice_id``, Sikka's ``practice_id`` of it inside the office."""

    @property
    def id(self) -> str: ...

    @property
    def sikka_practice_id(self) -> str: ...


@dataclass(frozen=True)
class PracticeIds:
    """The two ids alone, for a caller that has no practice of its own to pass."""

    id: str
    sikka_practice_id: str
