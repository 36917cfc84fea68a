"""Small measuring helpers shared by the simulator tests."""

from __future__ import annotations

import hashlib
import json
import re

import pandas as pd

from warehouse.batch import CanonicalBatch


def table_fingerprints(batch: CanonicalBatch) -> dict[str, str]:
    """One hash per table (row order and every value count) plus one for the societies row."""
    out = {
        name: f"{len(frame)}:{int(pd.util.hash_pandas_object(frame, index=False).sum())}"
        for name, frame in batch.tables.items()
    }
    society = json.dumps(batch.society, sort_keys=True, default=str)
    out["societies"] = hashlib.sha256(society.encode()).hexdigest()
    return out


def normalise(text: str) -> str:
    """The exact-duplicate normalisation of ANALYTICS_SPEC §6.1 (minus NFKC and URLs)."""
    return " ".join(re.sub(r"\d", "", text.lower()).split())


def post_texts(batch: CanonicalBatch) -> pd.Series:
    posts = batch.tables["posts"]
    return posts["title"].fillna("") + "\n\n" + posts["content"].fillna("")


def labels(batch: CanonicalBatch, item_type: str, key: str) -> pd.Series:
    """sim_labels value by item id for one item type and key."""
    frame = batch.tables["sim_labels"]
    chosen = frame[(frame["item_type"] == item_type) & (frame["key"] == key)]
    return chosen.set_index("item_id")["value"]
