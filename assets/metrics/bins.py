"""Time bins of the day-based series (ANALYTICS_SPEC.md §0.4) and the collection-artifact flags.

Real societies are binned by UTC day, a day being valid with ≥ 200 posts. A society that spans
fewer than `MIN_DAYS_FOR_DAILY` UTC days (every built-in simulator: its runs last hours) has no
day series at all, so it gets the short-run rule instead: `SHORT_RUN_BINS` equal-width bins from
the first to the last post, each valid with ≥ `MIN_POSTS_SHORT_BIN` posts. Every parameter the
spec states in days (the 48 h interaction window, the 3-day supernode run, slopes per day) is then
read in bins. The rule is this project's (proposed), recorded with each series as `bin_seconds`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

DAY_S = 86_400
MIN_DAYS_FOR_DAILY = 8
SHORT_RUN_BINS = 8
MIN_POSTS_DAY = 200
MIN_POSTS_SHORT_BIN = 30

FlagWindows = list[tuple[pd.Timestamp, pd.Timestamp]]


def utc_times(values: pd.Series) -> pd.Series:
    """Timestamps as tz-aware UTC; unreadable values become NaT."""
    return pd.to_datetime(values, utc=True, errors="coerce")


@dataclass(frozen=True)
class TimeBins:
    """Bin i covers [origin + i·width, origin + (i+1)·width); the last bin also holds its end."""

    origin: pd.Timestamp
    width_s: float
    n_bins: int
    min_posts: int

    @property
    def is_daily(self) -> bool:
        return self.width_s == DAY_S

    @property
    def day_s(self) -> float:
        """Seconds that stand for one spec "day": a day, or one short-run bin."""
        return self.width_s

    def index(self, times: pd.Series) -> np.ndarray:
        """Bin of each time (int64); -1 for a missing time."""
        t = utc_times(times)
        offset = (t - self.origin).dt.total_seconds().to_numpy(dtype=float)
        idx = np.floor(offset / self.width_s)
        idx = np.clip(np.nan_to_num(idx, nan=-1.0), -1, self.n_bins - 1).astype(np.int64)
        idx[np.isnan(offset)] = -1
        return idx

    def starts(self) -> pd.DatetimeIndex:
        return pd.DatetimeIndex(
            [self.origin + pd.Timedelta(seconds=i * self.width_s) for i in range(self.n_bins)]
        )

    def flagged(self, windows: FlagWindows) -> np.ndarray:
        """True for each bin that overlaps a `time_flags` window."""
        return bin_is_flagged(self.starts(), pd.Timedelta(seconds=self.width_s), windows)


def plan_bins(times: pd.Series) -> TimeBins | None:
    """Daily bins when the times span ≥ MIN_DAYS_FOR_DAILY UTC days, else the short-run rule;
    None when there is no readable time."""
    t = utc_times(times).dropna()
    if t.empty:
        return None
    first, last = t.min(), t.max()
    first_day = first.floor("D")
    n_days = int((last.floor("D") - first_day) / pd.Timedelta(days=1)) + 1
    if n_days >= MIN_DAYS_FOR_DAILY:
        return TimeBins(first_day, float(DAY_S), n_days, MIN_POSTS_DAY)
    width = max((last - first).total_seconds() / SHORT_RUN_BINS, 1.0)
    return TimeBins(first, width, SHORT_RUN_BINS, MIN_POSTS_SHORT_BIN)


def parse_time_flags(time_flags: Sequence[Mapping[str, object]] | None) -> FlagWindows:
    """(start, end) UTC windows of `societies.config_json.time_flags`; an unreadable entry is skipped."""
    windows: FlagWindows = []
    for flag in time_flags or []:
        if not isinstance(flag, Mapping):
            continue
        start = pd.to_datetime(flag.get("start"), utc=True, errors="coerce")
        end = pd.to_datetime(flag.get("end"), utc=True, errors="coerce")
        if not (pd.isna(start) or pd.isna(end)) and start <= end:
            windows.append((start, end))
    return windows


def bin_is_flagged(bin_start: pd.Series | pd.DatetimeIndex, width: pd.Timedelta, windows: FlagWindows) -> np.ndarray:
    """True where the bin [start, start + width) overlaps a flag window [start, end] (§0.4); a
    missing start is not flagged."""
    starts = pd.Series(bin_start)
    hit = np.zeros(len(starts), dtype=bool)
    for start, end in windows:
        hit |= ((starts <= end) & (starts + width > start)).to_numpy(dtype=bool, na_value=False)
    return hit


def hour_is_flagged(times: pd.Series, windows: FlagWindows) -> np.ndarray:
    """True where the UTC hour of a time overlaps a flag window (the hourly series' rule)."""
    return bin_is_flagged(utc_times(times).dt.floor("h"), pd.Timedelta(hours=1), windows)


def in_flagged_window(times: pd.Series, windows: FlagWindows) -> np.ndarray:
    """True where a time falls inside a flag window (a missing time is not flagged)."""
    t = utc_times(times)
    hit = np.zeros(len(t), dtype=bool)
    for start, end in windows:
        hit |= ((t >= start) & (t <= end)).to_numpy(dtype=bool, na_value=False)
    return hit
