"""Small PNG plots of a family's headline series, embedded in Dagster metadata as markdown.

The plot is for a person glancing at an asset in the UI: one line (or bars) with labelled axes,
a few kilobytes, rendered without a display (matplotlib's Agg backend).
"""

from __future__ import annotations

import base64
import io

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402  (the backend is chosen first)
import pandas as pd  # noqa: E402


def series_png(frame: pd.DataFrame, x: str, y: str, title: str, *, kind: str = "line",
               log_x: bool = False, log_y: bool = False) -> bytes | None:
    """A 4 × 2.2 inch plot of `y` against `x`; None when there is nothing to draw."""
    if x not in frame.columns or y not in frame.columns:
        return None
    data = frame[[x, y]].dropna()
    if log_x:
        data = data[data[x].astype(float) > 0]
    if log_y:
        data = data[data[y].astype(float) > 0]
    if data.empty:
        return None
    figure, axes = plt.subplots(figsize=(4.0, 2.2), dpi=80)
    try:
        if kind == "bar":
            axes.bar(data[x].astype(str), data[y].astype(float), color="#4c72b0")
            axes.tick_params(axis="x", labelrotation=45, labelsize=7)
        else:
            axes.plot(data[x], data[y].astype(float), marker="o", markersize=2.5, linewidth=1.2, color="#4c72b0")
            axes.tick_params(axis="x", labelsize=7)
        axes.set_xscale("log" if log_x else "linear")
        axes.set_yscale("log" if log_y else "linear")
        axes.set_title(title, fontsize=9)
        axes.set_xlabel(x, fontsize=8)
        axes.set_ylabel(y, fontsize=8)
        axes.tick_params(axis="y", labelsize=7)
        figure.autofmt_xdate() if pd.api.types.is_datetime64_any_dtype(data[x]) else None
        figure.tight_layout()
        buffer = io.BytesIO()
        figure.savefig(buffer, format="png")
        return buffer.getvalue()
    finally:
        plt.close(figure)


def png_markdown(png: bytes | None, alt: str) -> str:
    """Markdown that shows the image inline (a data URI), or says there was nothing to plot."""
    if png is None:
        return f"*{alt}: nothing to plot (no valid points)*"
    return f"![{alt}](data:image/png;base64,{base64.b64encode(png).decode('ascii')})"
