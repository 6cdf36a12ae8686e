"""A column held as its distinct values and a code per row, as the normalizer builds them.

Ledger columns are made from a few distinct values (one ``Decimal`` per amount, one text
per date, type or code) spread over the rows. Kept in that form until the frame is built,
a column can be judged once per distinct value rather than once per row.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd

from ar_pipelines.normalize.text import BoolArray, ObjectArray

Codes = npt.NDArray[np.intp]


@dataclass(frozen=True)
class Distinct:
    """Row ``i`` holds ``values[codes[i]]``, or ``None`` where ``codes[i]`` is ``-1``.

    ``values`` may hold values no row uses: they are judged all the same, which can only
    make a check stricter.
    """

    codes: Codes
    values: ObjectArray

    def rows(self) -> ObjectArray:
        """The column, one item per row."""
        padded = np.append(self.values, np.array([None], dtype=object))
        rows: ObjectArray = padded[self.codes]  # code -1 picks the appended None
        return rows

    def candidates(self) -> ObjectArray:
        """Every value a row may hold: ``values``, and ``None`` when a row is missing."""
        if len(self.codes) and int(self.codes.min()) < 0:
            return np.append(self.values, np.array([None], dtype=object))
        return self.values

    def at(self, rows: BoolArray | npt.NDArray[np.intp]) -> Distinct:
        """The same column over the selected ``rows``."""
        return Distinct(codes=self.codes[rows], values=self.values)

    def compact(self) -> Distinct:
        """Only the values some row uses, numbered in order of first use: for a column
        drawn from a large table (every customer) of which a chunk uses a few."""
        used = self.codes >= 0
        codes, positions = pd.factorize(self.codes[used])
        compacted = np.full(len(self.codes), -1, dtype=np.intp)
        compacted[used] = codes
        return Distinct(codes=compacted, values=self.values[positions])
