"""The unit every importer and simulator hands to the warehouse writer."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import pandas as pd


@dataclass(frozen=True)
class QuarantinedRow:
    """An input row that could not be mapped onto the canonical tables, kept verbatim with why."""

    row_no: int  # position of the row in its input (stable across re-imports of the same input)
    source: str  # where it came from, e.g. "moltbook_posts.csv:412" or "posts_list.json#posts[3]"
    raw: str  # the row as it arrived (JSON text or CSV record)
    reason: str


@dataclass
class CanonicalBatch:
    """Rows for the canonical tables of one society, written in one transaction.

    `tables` maps a canonical table name (DESIGN.md §4) to a DataFrame whose columns are a subset
    of that table's columns; `society_id` is filled in by the writer when absent.
    """

    society: dict[str, Any]  # one `societies` row; must hold society_id and kind
    tables: dict[str, pd.DataFrame] = field(default_factory=dict)
    quarantine: list[QuarantinedRow] = field(default_factory=list)

    @property
    def society_id(self) -> str:
        return str(self.society["society_id"])

    def row_counts(self) -> dict[str, int]:
        return {name: len(frame) for name, frame in self.tables.items()}
