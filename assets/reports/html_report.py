"""The comparative society report (DESIGN.md §3, ANALYTICS_SPEC.md §8.1): one offline HTML file.

Everything the report shows beyond our own words was written by agents or
taken from a source (society ids, topic labels and terms), so it is treated as
hostile: HTML text goes through `html.escape`, text inside Plotly figures is
entity-escaped as well (Plotly renders a subset of HTML tags in labels), and the
figure JSON embedded in <script> has `<`, `>`, `&`, U+2028 and U+2029 written
as \\uXXXX escapes so no string can close the script element.

Each metric row carries the provenance badge and a footnote taken from `metric_registry`
(ANALYTICS_SPEC §0.1, §8.1.2); cells of metrics whose inputs were computed with different
embedding models or label methods across the societies shown are greyed (`society_analysis`,
§8.1.3, mapped per family in COMPARABILITY); the §8.2 published findings follow per society.

plotly.js is bundled inline exactly once and nothing is fetched from anywhere
(no CDN, no web font), so the file opens offline and leaks no request.
"""

from __future__ import annotations

import html
import math
import os
import tempfile
from collections.abc import Sequence
from datetime import datetime
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs
from plotly.subplots import make_subplots

#: Society descriptors shown in the header when present.
SOCIETY_FIELDS = ["kind", "platform", "preset", "seed"]
#: Families charted as small-multiple bar panels, in this order; other families follow.
CHART_FAMILIES = ["threads", "influence"]
PALETTE = ["#1f77b4", "#d62728", "#2ca02c", "#9467bd", "#ff7f0e", "#17becf", "#8c564b", "#e377c2"]
TOP_TOPICS = 10
#: society_analysis columns the metrics of each family depend on (ANALYTICS_SPEC §8.1.3): where the
#: societies shown differ in one of them, the family's cells are greyed. Families not listed
#: (influence, threads, coverage) read neither embeddings nor labels.
COMPARABILITY: dict[str, tuple[str, ...]] = {
    "topics": ("model_id", "category_method"),
    "toxicity": ("toxicity_method", "category_method"),
    "socialization": ("model_id",),
    "moltnet": ("model_id", "category_method", "toxicity_method", "emotion_method"),
    "automation": ("model_id",),
}
ANALYSIS_COLUMNS = ["model_id", "category_method", "toxicity_method", "emotion_method"]
#: What each provenance badge means (ANALYTICS_SPEC §0.1).
PROVENANCE_WORDS = {
    "paper-defined": "the cited paper gives the measure and its parameters; implemented as published",
    "paper-named": "a paper reports this measure but its formula was not available to us; "
    "the formula used here is our operationalization",
    "proposed": "added by this project; no published definition",
}
CI_WORDS = {
    "wilson": "Wilson score interval",
    "bootstrap": "bootstrap over the unit",
    "block_bootstrap": "block bootstrap (serially dependent series)",
    "permutation": "permutation test",
    "none": "none (point value only)",
}
EVIDENCE_WORDS = {
    "P": "primary: stated in the paper's abstract, project page or dataset card",
    "S": "secondary: from third-party summaries, not yet checked against the full text",
    "none": "nothing published; the direction is our expectation",
}
FINDING_STATUSES = {"reproduced": "st-reproduced", "not reproduced": "st-not-reproduced",
                    "not available": "st-not-available"}
PLOTLY_CONFIG = '{"responsive": true, "displaylogo": false, "showLink": false}'

CSS = """
body { font-family: system-ui, -apple-system, "Segoe UI", Roboto, Helvetica, Arial, sans-serif;
       margin: 2rem; color: #222; max-width: 1400px; }
h1 { margin-bottom: 0.2rem; } .meta { color: #555; margin-top: 0; }
table { border-collapse: collapse; margin: 0.5rem 0 1.5rem; font-size: 0.9rem; }
th, td { border: 1px solid #ccc; padding: 0.25rem 0.5rem; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { font-variant-numeric: tabular-nums; white-space: nowrap; }
.ci, .n { color: #666; font-size: 0.8rem; } .na { color: #999; font-style: italic; }
.grid { display: grid; grid-template-columns: repeat(auto-fit, minmax(480px, 1fr)); gap: 1rem; }
.plot { width: 100%; }
.badge { display: inline-block; font-size: 0.7rem; padding: 0 0.35rem; margin-left: 0.3rem; border-radius: 0.6rem;
         border: 1px solid #bbb; color: #444; white-space: nowrap; }
.badge.paper-defined { border-color: #2c7a3f; color: #2c7a3f; }
.badge.paper-named { border-color: #a86200; color: #a86200; }
.badge.proposed { border-color: #4a5bb5; color: #4a5bb5; }
.badge.unregistered { border-color: #b42318; color: #b42318; }
sup.ref a { text-decoration: none; font-size: 0.7rem; }
.incomparable { background: #eee; color: #999; } .incomparable .ci, .incomparable .n { color: #aaa; }
.notes li { margin-bottom: 0.3rem; font-size: 0.85rem; }
.st-reproduced { color: #1a7f37; } .st-not-reproduced { color: #b42318; } .st-not-available { color: #999; }
"""


# The page may load nothing from anywhere: inline script and style only, images from data URIs
# (Plotly's PNG download). A label that slipped past escaping still could not fetch or beacon.
CONTENT_SECURITY_POLICY = (
    "default-src 'none'; script-src 'unsafe-inline'; style-src 'unsafe-inline'; "
    "img-src data: blob:; font-src data:; connect-src 'none'; base-uri 'none'; form-action 'none'"
)


def _e(value: Any) -> str:
    """Escape any value for HTML text or a quoted attribute."""
    return html.escape("" if value is None else str(value), quote=True)


def _pt(value: Any) -> str:
    """Escape text placed inside a Plotly figure (Plotly interprets <b>, <a href>, <br> in labels)."""
    return html.escape("" if value is None else str(value), quote=False)


def script_safe_json(text: str) -> str:
    """Make JSON safe inside <script>: no `<`, `>`, `&`, U+2028/2029 left raw (valid JSON and JS)."""
    return (
        text.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _is_null(value: Any) -> bool:
    return value is None or (isinstance(value, float) and math.isnan(value)) or value is pd.NA or value is pd.NaT


def _fmt(value: float) -> str:
    """Compact number: 4 significant digits, thousands grouped."""
    if value == 0:
        return "0"
    if abs(value) >= 10_000:
        return f"{value:,.0f}"
    if abs(value) < 0.001:
        return f"{value:.2e}"
    return f"{value:.4g}"


def _society_ids(societies: pd.DataFrame, metrics: pd.DataFrame) -> list[str]:
    """Societies in the order given, then any that only appear in the metrics."""
    ids = [str(s) for s in societies["society_id"]] if "society_id" in societies else []
    extra = sorted({str(s) for s in metrics.get("society_id", pd.Series(dtype=object))} - set(ids))
    return ids + extra


def _colors(ids: Sequence[str]) -> dict[str, str]:
    return {sid: PALETTE[i % len(PALETTE)] for i, sid in enumerate(ids)}


# --------------------------------------------------------------------------- HTML blocks


def _header(
    societies: pd.DataFrame, ids: list[str], generated_at: Any, has_registry: bool, analysis: pd.DataFrame | None
) -> str:
    when = generated_at.isoformat() if isinstance(generated_at, (datetime, pd.Timestamp)) else generated_at
    fields = [f for f in SOCIETY_FIELDS if f in societies.columns]
    counts = [c for c in societies.columns if c.startswith("n_")]
    head = "".join(f"<th>{_e(c)}</th>" for c in ["society", *fields, *counts])
    body = []
    by_id = {str(r["society_id"]): r for _, r in societies.iterrows()} if "society_id" in societies else {}
    for sid in ids:
        row = by_id.get(sid)
        cells = [f"<td>{_e(sid)}</td>"]
        for c in fields:
            v = None if row is None else row[c]
            cells.append(f"<td>{'' if _is_null(v) else _e(v)}</td>")
        for c in counts:
            v = None if row is None else row[c]
            cells.append(f'<td class="num">{"" if _is_null(v) else _e(_fmt(float(v)))}</td>')
        body.append("<tr>" + "".join(cells) + "</tr>")
    guide = []
    if has_registry:
        guide.append(
            "Each metric carries the provenance of its definition (paper-defined, paper-named, proposed) and a "
            'note number; the <a href="#metric-notes">metric notes</a> give its unit, interval method, '
            "expected direction and published Moltbook value."
        )
    if analysis is not None:
        guide.append(
            '<span class="incomparable">Greyed</span> cells are not to be compared: the societies shown were processed '
            "with different embedding models or label methods that the metric's family depends on "
            "(<code>society_analysis</code>, ANALYTICS_SPEC §8.1.3); hover a cell to see which differ. "
            "A society with no recorded model or method is not greyed."
        )
    extra = (f'<p class="meta">{" ".join(guide)}</p>' if guide else "") + (
        "" if analysis is None else _analysis_table(analysis, ids))
    return (
        "<header><h1>Agent society comparison</h1>"
        f'<p class="meta">Generated {_e(when)} for {len(ids)} societies. Values are society-level metrics '
        "from <code>society_metric</code> with their 95 % interval and the number of units behind them "
        "(n); <span class=\"na\">n/a</span> means below the minimum sample or not available in the source.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>{extra}</header>"
    )


def _analysis_table(analysis: pd.DataFrame, ids: list[str]) -> str:
    """How each society shown was processed: the models and label methods behind its numbers."""
    by_id = _analysis_by_society(analysis)
    shown = [sid for sid in ids if sid in by_id]
    if not shown:
        return ""
    head = "".join(f"<th>{_e(c)}</th>" for c in ["society", "pipeline_version", *ANALYSIS_COLUMNS])
    rows = []
    for sid in shown:
        values = [by_id[sid].get(c) for c in ["pipeline_version", *ANALYSIS_COLUMNS]]
        cells = "".join(f"<td>{'' if _is_null(v) else _e(v)}</td>" for v in values)
        rows.append(f"<tr><td>{_e(sid)}</td>{cells}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(rows)}</tbody></table>"


def _analysis_by_society(analysis: pd.DataFrame | None) -> dict[str, dict[str, Any]]:
    if analysis is None or analysis.empty or "society_id" not in analysis.columns:
        return {}
    return {str(r["society_id"]): r.to_dict() for _, r in analysis.iterrows()}


def incomparable_cells(analysis: pd.DataFrame | None, ids: list[str]) -> dict[str, dict[str, str]]:
    """family → {society_id: why its cells are greyed} for the families whose inputs differ.

    A society takes part when society_analysis records a value for the column; a society with no
    row, or NULL there (never embedded or labelled), has nothing to differ in and stays ungreyed.
    """
    by_id = _analysis_by_society(analysis)
    differing: dict[str, dict[str, str]] = {}  # column → {society: value}, only columns that differ
    for column in ANALYSIS_COLUMNS:
        values = {sid: str(by_id[sid][column]) for sid in ids
                  if sid in by_id and not _is_null(by_id[sid].get(column))}
        if len(set(values.values())) > 1:
            differing[column] = values
    out: dict[str, dict[str, str]] = {}
    for family, columns in COMPARABILITY.items():
        reasons = [c for c in columns if c in differing]
        if not reasons:
            continue
        why = "; ".join(
            f"{c} differs (" + ", ".join(f"{sid}: {v}" for sid, v in differing[c].items()) + ")" for c in reasons
        )
        affected = {sid for c in reasons for sid in differing[c]}
        out[family] = {sid: f"not comparable across these societies: {why}" for sid in ids if sid in affected}
    return out


def _cell(row: pd.Series | None, incomparable: str | None = None) -> str:
    """One society's value of one metric; `incomparable` (why) greys the cell out."""
    css = "num" if incomparable is None else "num incomparable"
    title = "" if incomparable is None else f' title="{_e(incomparable)}"'
    if row is None:
        hint = title or ' title="not computed"'
        return f'<td class="{css} na"{hint}>–</td>'
    n = "" if _is_null(row["n"]) else f' <span class="n">n={_e(int(row["n"]))}</span>'
    if _is_null(row["value"]):
        return f'<td class="{css}"{title}><span class="na">n/a</span>{n}</td>'
    ci = ""
    if not _is_null(row["ci_low"]) and not _is_null(row["ci_high"]):
        ci = f' <span class="ci">[{_e(_fmt(row["ci_low"]))}, {_e(_fmt(row["ci_high"]))}]</span>'
    return f'<td class="{css}"{title}>{_e(_fmt(float(row["value"])))}{ci}{n}</td>'


def _metric_keys(metrics: pd.DataFrame) -> list[tuple[str, str]]:
    if metrics.empty:
        return []
    return sorted({(str(f), str(m)) for f, m in zip(metrics["family"], metrics["metric"])})


def _registry_lookup(registry: pd.DataFrame | None) -> dict[tuple[str, str], dict[str, Any]] | None:
    """(family, metric) → registry row; None when no registry was given (no badges, no notes)."""
    if registry is None:
        return None
    if registry.empty:
        return {}
    return {(str(r["family"]), str(r["metric"])): r.to_dict() for _, r in registry.iterrows()}


def _badge(spec: dict[str, Any] | None, note: int) -> str:
    """The provenance badge and the note reference shown next to a metric's name."""
    ref = f'<sup class="ref"><a href="#note-{note}">{note}</a></sup>'
    if spec is None:
        return f'<span class="badge unregistered" title="no metric_registry row">not in registry</span>{ref}'
    kind = str(spec.get("definition_provenance"))
    css = kind if kind in PROVENANCE_WORDS else "unregistered"
    return f'<span class="badge {css}" title="{_e(PROVENANCE_WORDS.get(kind, kind))}">{_e(kind)}</span>{ref}'


def _comparison_table(
    metrics: pd.DataFrame,
    ids: list[str],
    registry: dict[tuple[str, str], dict[str, Any]] | None = None,
    incomparable: dict[str, dict[str, str]] | None = None,
) -> str:
    """society_metric pivoted: one row per family.metric, one column per society."""
    if metrics.empty:
        return "<section><h2>Metrics</h2><p>No metrics computed yet.</p></section>"
    lookup = {(str(r["society_id"]), r["family"], r["metric"]): r for _, r in metrics.iterrows()}
    head = "<th>family.metric</th>" + "".join(f"<th>{_e(sid)}</th>" for sid in ids)
    body = []
    for k, (family, metric) in enumerate(_metric_keys(metrics), start=1):
        greyed = (incomparable or {}).get(family, {})
        cells = "".join(_cell(lookup.get((sid, family, metric)), greyed.get(sid)) for sid in ids)
        badge = "" if registry is None else _badge(registry.get((family, metric)), k)
        body.append(f'<tr><td class="metric">{_e(family)}.{_e(metric)}{badge}</td>{cells}</tr>')
    return (
        "<section><h2>Metrics side by side</h2>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table></section>"
    )


def _note(spec: dict[str, Any] | None) -> str:
    """One metric's footnote, in words, from its metric_registry row."""
    if spec is None:
        return "not in registry: no unit, definition provenance or interval method is recorded for this metric."
    source = None if _is_null(spec.get("moltbook_source")) else str(spec["moltbook_source"])
    kind = str(spec.get("definition_provenance"))
    if kind == "paper-named":
        named = f"the measure named in {source}" if source else "a measure named in the literature"
        provenance = (f"paper-named: the formula is our operationalization of {named}, "
                      "whose own formula was not available to us")
    else:
        provenance = f"{kind}: {PROVENANCE_WORDS.get(kind, 'unknown provenance')}"
    ci = str(spec.get("ci_method"))
    parts = [
        f"Unit: {spec.get('unit')}.",
        f"Definition: {provenance}.",
        f"95 % interval: {CI_WORDS.get(ci, ci)}.",
        f"Expected on a Moltbook-like society: {spec.get('expected_direction')}.",
    ]
    value = None if _is_null(spec.get("moltbook_value")) else str(spec["moltbook_value"])
    evidence = None if _is_null(spec.get("moltbook_evidence")) else str(spec["moltbook_evidence"])
    if value or source or evidence not in (None, "none"):
        published = [f"Moltbook: {value}" if value else "Moltbook: no published value"]
        if evidence and evidence != "none":
            published.append(f"evidence [{evidence}]")
        if source:
            published.append(f"source {source}")
        parts.append(", ".join(published) + ".")
    return " ".join(_e(p) for p in parts)


def _metric_notes(keys: list[tuple[str, str]], registry: dict[tuple[str, str], dict[str, Any]] | None) -> str:
    """The footnotes of the comparison table, numbered as its rows."""
    if registry is None or not keys:
        return ""
    items = "".join(
        f'<li id="note-{k}" value="{k}"><code>{_e(family)}.{_e(metric)}</code> '
        f"{_note(registry.get((family, metric)))}</li>"
        for k, (family, metric) in enumerate(keys, start=1)
    )
    legend = "".join(f"<li><b>{_e(kind)}</b>: {_e(words)}.</li>" for kind, words in PROVENANCE_WORDS.items())
    evidence = "".join(f"<li><b>[{_e(tag)}]</b>: {_e(words)}.</li>" for tag, words in EVIDENCE_WORDS.items())
    return (
        '<section id="metric-notes"><h2>Metric notes</h2>'
        "<p>From <code>metric_registry</code> (ANALYTICS_SPEC §0.1, §8.1.2). Definition provenance:</p>"
        f"<ul>{legend}</ul><p>Evidence tags of published Moltbook values:</p><ul>{evidence}</ul>"
        f'<ol class="notes">{items}</ol></section>'
    )


def _status_cell(row: pd.Series | None) -> str:
    """A finding's status for one society, its reason on hover."""
    if row is None:
        return '<td class="na">–</td>'
    css = FINDING_STATUSES.get(str(row["status"]), "")
    reason = "" if _is_null(row.get("reason")) else str(row["reason"])
    return f'<td class="{css}" title="{_e(reason)}">{_e(row["status"])}</td>'


def _findings_section(findings: pd.DataFrame | None, ids: list[str]) -> str:
    """§8.2: the published findings' status per society, then each society's observed values and reasons."""
    if findings is None:
        return ""
    title = "<h2>Published findings (§8.2)</h2>"
    if findings.empty or "society_id" not in findings.columns:
        return f'<section id="findings">{title}<p>No findings evaluated.</p></section>'
    f = findings.assign(society_id=findings["society_id"].astype(str))
    shown = [sid for sid in ids if sid in set(f["society_id"])]
    shown += sorted(set(f["society_id"]) - set(shown))
    numbers = sorted(f["finding"].unique())
    claims = {num: f.loc[f["finding"] == num, "claim"].iloc[0] for num in numbers}
    status = {(str(r["society_id"]), r["finding"]): r for _, r in f.iterrows()}
    head = "<th>#</th><th>finding on Moltbook</th>" + "".join(f"<th>{_e(sid)}</th>" for sid in shown)
    rows = "".join(
        f'<tr><td class="num">{_e(num)}</td><td>{_e(claims[num])}</td>'
        + "".join(_status_cell(status.get((sid, num))) for sid in shown) + "</tr>"
        for num in numbers
    )
    details = []
    for sid in shown:
        part = f[f["society_id"] == sid]
        tally = ", ".join(f"{int((part['status'] == s).sum())} {s}" for s in FINDING_STATUSES)
        lines = "".join(
            f'<tr><td class="num">{_e(r["finding"])}</td><td>{_e(r["claim"])}</td>'
            f'<td class="{FINDING_STATUSES.get(str(r["status"]), "")}">{_e(r["status"])}</td>'
            f"<td>{_e(r.get('observed'))}</td><td>{_e(r.get('reason'))}</td><td>{_e(r.get('source'))}</td></tr>"
            for _, r in part.iterrows()
        )
        details.append(
            f"<details><summary>{_e(sid)}: {_e(tally)}</summary><table><thead><tr><th>#</th><th>finding</th>"
            "<th>status</th><th>observed</th><th>reason</th><th>source</th></tr></thead>"
            f"<tbody>{lines}</tbody></table></details>"
        )
    return (
        f'<section id="findings">{title}<p class="meta">Directional findings published about Moltbook, '
        "checked on each society's metrics: a check holds when its sign or ordering holds within the 95 % "
        "interval; the thresholds that turn words such as “high” into checks are this project's. "
        "<i>not available</i> means a metric is missing or NULL, with the data the society lacks as reason.</p>"
        f"<table><thead><tr>{head}</tr></thead><tbody>{rows}</tbody></table>{''.join(details)}</section>"
    )


def _figure_html(fig: go.Figure, div_id: str) -> str:
    """A div plus an inline script drawing `fig` with the bundled plotly.js."""
    payload = script_safe_json(fig.to_json())
    return (
        f'<div id="{div_id}" class="plot"></div>'
        f"<script>(function(){{var fig = {payload};"
        f'Plotly.newPlot("{div_id}", fig.data, fig.layout, {PLOTLY_CONFIG});}})();</script>'
    )


# --------------------------------------------------------------------------- figures


def _metric_panels(metrics: pd.DataFrame, family: str, ids: list[str]) -> go.Figure | None:
    """One small bar panel per metric (scales differ: depths, shares, seconds), bars = societies."""
    fam = metrics[metrics["family"] == family]
    names = sorted(fam["metric"].astype(str).unique())
    if not names:
        return None
    cols = 4
    rows = math.ceil(len(names) / cols)
    fig = make_subplots(
        rows=rows, cols=cols, subplot_titles=[_pt(m) for m in names],
        vertical_spacing=min(0.12, 0.6 / rows), horizontal_spacing=0.06,
    )  # fmt: skip
    colors = _colors(ids)
    for i, metric in enumerate(names):
        rows_of = {str(r["society_id"]): r for _, r in fam[fam["metric"] == metric].iterrows()}
        y, up, down = [], [], []
        for sid in ids:
            r = rows_of.get(sid)
            v = None if r is None or _is_null(r["value"]) else float(r["value"])
            lo = None if v is None or _is_null(r["ci_low"]) else float(r["ci_low"])
            hi = None if v is None or _is_null(r["ci_high"]) else float(r["ci_high"])
            y.append(v)
            up.append(None if hi is None else max(0.0, hi - v))
            down.append(None if lo is None else max(0.0, v - lo))
        for j, sid in enumerate(ids):
            fig.add_trace(
                go.Bar(
                    x=[_pt(sid)], y=[y[j]], name=_pt(sid), legendgroup=_pt(sid), showlegend=(i == 0),
                    marker_color=colors[sid],
                    error_y=dict(type="data", symmetric=False, array=[up[j]], arrayminus=[down[j]]),
                ),
                row=i // cols + 1, col=i % cols + 1,
            )  # fmt: skip
    fig.update_xaxes(showticklabels=False)
    fig.update_layout(
        template="plotly_white", height=260 * rows + 80, barmode="group",
        title_text=_pt(f"{family} metrics (95 % CI)"), margin=dict(t=90, l=40, r=20, b=20),
    )  # fmt: skip
    return fig


def _depth_distribution(thread_stats: pd.DataFrame | None, ids: list[str]) -> go.Figure | None:
    """Share of threads by max_depth per society, over uncapped orphan-free threads (as the metrics)."""
    if thread_stats is None or thread_stats.empty or "max_depth" not in thread_stats:
        return None
    ts = thread_stats.dropna(subset=["max_depth"])
    if "is_capped" in ts:
        ts = ts[~ts["is_capped"].astype(bool)]
    if "n_orphans" in ts:
        ts = ts[ts["n_orphans"] == 0]
    if ts.empty:
        return None
    colors = _colors(ids)
    fig = go.Figure()
    for sid in ids:
        depths = ts.loc[ts["society_id"].astype(str) == sid, "max_depth"].astype(int)
        if depths.empty:
            continue
        share = depths.value_counts(normalize=True).sort_index()
        fig.add_trace(go.Bar(x=share.index.tolist(), y=share.to_numpy().tolist(), name=_pt(sid),
                             marker_color=colors[sid]))  # fmt: skip
    fig.update_layout(
        template="plotly_white", barmode="group", height=380,
        title_text="Thread max depth (uncapped, orphan-free threads)",
        xaxis_title="max depth", yaxis_title="share of threads", xaxis=dict(dtick=1),
    )  # fmt: skip
    return fig


def _terms(value: Any, limit: int = 8) -> str:
    if value is None or (isinstance(value, float) and math.isnan(value)):
        return ""
    if isinstance(value, (list, tuple, np.ndarray, pd.Series)):
        return ", ".join(str(t) for t in list(value)[:limit])
    return str(value)


def _top_topics(topic_info: pd.DataFrame | None, ids: list[str]) -> dict[str, pd.DataFrame]:
    """Largest non-outlier topics per society (topic_info joined to topic_models for society_id)."""
    if topic_info is None or topic_info.empty:
        return {}
    key = "society_id" if "society_id" in topic_info.columns else "model_id"
    ti = topic_info[topic_info["topic"] != -1].copy()
    if "label" not in ti.columns:
        ti["label"] = None
    if "top_terms" not in ti.columns:
        ti["top_terms"] = None
    # BERTopic labels can be empty; fall back to the first terms so a bar is never blank.
    ti["display"] = [
        str(label) if not _is_null(label) and str(label) else _terms(terms, 4)
        for label, terms in zip(ti["label"], ti["top_terms"])
    ]
    out = {}
    groups = ids if key == "society_id" else sorted(ti[key].astype(str).unique())
    for g in groups:
        part = ti[ti[key].astype(str) == g].sort_values(["size", "topic"], ascending=[False, True]).head(TOP_TOPICS)
        if not part.empty:
            out[g] = part
    return out


def _topic_section(topic_info: pd.DataFrame | None, ids: list[str]) -> str:
    tops = _top_topics(topic_info, ids)
    if not tops:
        return "<section><h2>Top topics</h2><p>No topic model for these societies.</p></section>"
    colors = _colors(list(tops))
    blocks = []
    for i, (sid, part) in enumerate(tops.items()):
        labels = [_pt(f"{t}: {d[:60]}") for t, d in zip(part["topic"], part["display"])]
        fig = go.Figure(go.Bar(x=part["size"].astype(float).tolist()[::-1], y=labels[::-1], orientation="h",
                               marker_color=colors[sid]))  # fmt: skip
        fig.update_layout(
            template="plotly_white", height=80 + 28 * len(part), title_text=_pt(f"Top topics: {sid}"),
            margin=dict(l=20, r=20, t=50, b=30), yaxis=dict(automargin=True), xaxis_title="texts",
        )  # fmt: skip
        rows = "".join(
            f"<tr><td class=\"num\">{_e(t)}</td><td class=\"num\">{_e(s)}</td><td>{_e(d)}</td>"
            f"<td>{_e(_terms(terms))}</td></tr>"
            for t, s, d, terms in zip(part["topic"], part["size"], part["display"], part["top_terms"])
        )
        table = (
            "<table><thead><tr><th>topic</th><th>size</th><th>label</th><th>top terms</th></tr></thead>"
            f"<tbody>{rows}</tbody></table>"
        )
        blocks.append(f"<div><h3>{_e(sid)}</h3>{_figure_html(fig, f'fig-topics-{i}')}{table}</div>")
    return f'<section><h2>Top topics</h2><div class="grid">{"".join(blocks)}</div></section>'


# Display names of label values, per labelled field (ANALYTICS_SPEC §1.3, §2.1, §5.4).
LABEL_FIELDS: dict[str, tuple[str, dict[str, str]]] = {
    "category": ("Content category of posts", {
        "A": "Identity", "B": "Technology", "C": "Socializing", "D": "Economics", "E": "Viewpoint",
        "F": "Promotion", "G": "Politics", "H": "Spam", "I": "Others"}),
    "toxicity": ("Toxicity level of posts", {
        "0": "0 Safe", "1": "1 Edgy", "2": "2 Toxic", "3": "3 Manipulative", "4": "4 Malicious"}),
    "emotion": ("Emotion of posts", {}),
}


def _label_section(label_counts: pd.DataFrame | None, ids: list[str]) -> str:
    """One stacked bar per society and labelled field: the share of each label among its posts."""
    if label_counts is None or label_counts.empty:
        return ""
    figures = []
    for k, (field, (title, names)) in enumerate(LABEL_FIELDS.items()):
        part = label_counts[label_counts["field"] == field]
        if part.empty:
            continue
        shown = [sid for sid in ids if sid in set(part["society_id"])]
        values = list(names) + sorted(set(part["value"].astype(str)) - set(names))
        fig = go.Figure()
        for value in values:
            shares = []
            for sid in shown:
                rows = part[part["society_id"] == sid]
                total = rows["n"].sum()
                shares.append(float(rows.loc[rows["value"].astype(str) == value, "n"].sum() / total) if total else 0.0)
            if any(shares):
                fig.add_bar(y=[_pt(sid) for sid in shown], x=shares, name=_pt(names.get(value, value)), orientation="h",
                            hovertemplate="%{y}: %{x:.1%}<extra>" + _pt(names.get(value, value)) + "</extra>")
        fig.update_layout(barmode="stack", template="plotly_white", title_text=_pt(title), xaxis_tickformat=".0%",
                          height=120 + 40 * len(shown), legend_traceorder="normal")
        figures.append(_figure_html(fig, f"fig-labels-{k}"))
    return "<section><h2>Labels</h2>" + "".join(figures) + "</section>" if figures else ""


# --------------------------------------------------------------------------- entry points


def render_society_report(
    societies: pd.DataFrame,
    metrics: pd.DataFrame,
    thread_stats: pd.DataFrame | None,
    topic_info: pd.DataFrame | None,
    generated_at: datetime | pd.Timestamp | str,
    label_counts: pd.DataFrame | None = None,
    registry: pd.DataFrame | None = None,
    analysis: pd.DataFrame | None = None,
    findings: pd.DataFrame | None = None,
) -> str:
    """One self-contained HTML document comparing the given societies side by side.

    `societies`: society_id plus any of kind, platform, preset, seed and `n_*` row counts.
    `metrics`: society_metric rows. `thread_stats`: threads_thread_stats rows with society_id.
    `topic_info`: topic_info rows with society_id (join topic_models), else grouped by model_id.
    `label_counts`: society_id, field (category | toxicity | emotion), value, n: posts per label.
    `registry`: metric_registry rows, for the provenance badges and metric notes (none without it).
    `analysis`: society_analysis rows, to grey out metrics computed with different models or labellers.
    `findings`: society_id plus the columns of `findings_table` (§8.2), one line per society and finding.
    """
    ids = _society_ids(societies, metrics)
    if not ids:
        raise ValueError("no society to report on")
    specs = _registry_lookup(registry)
    families = [f for f in CHART_FAMILIES if f in set(metrics.get("family", []))]
    families += sorted(set(metrics.get("family", [])) - set(CHART_FAMILIES))
    charts = []
    for k, family in enumerate(families):
        fig = _metric_panels(metrics, family, ids)
        if fig is not None:
            charts.append(_figure_html(fig, f"fig-metrics-{k}"))
    depth = _depth_distribution(thread_stats, ids)
    if depth is not None:
        charts.append(_figure_html(depth, "fig-depth"))
    chart_section = "<section><h2>Charts</h2>" + ("".join(charts) or "<p>No metric to chart.</p>") + "</section>"

    return (
        "<!DOCTYPE html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">"
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f'<meta http-equiv="Content-Security-Policy" content="{CONTENT_SECURITY_POLICY}">'
        "<title>Agent society comparison</title>"
        f"<style>{CSS}</style>"
        f'<script type="text/javascript">{get_plotlyjs()}</script>'
        "</head><body>"
        + _header(societies, ids, generated_at, specs is not None, analysis)
        + _comparison_table(metrics, ids, specs, incomparable_cells(analysis, ids))
        + _findings_section(findings, ids)
        + chart_section
        + _topic_section(topic_info, ids)
        + _label_section(label_counts, ids)
        + _metric_notes(_metric_keys(metrics), specs)
        + "</body></html>\n"
    )


def write_report(html_text: str, path: str | os.PathLike[str]) -> Path:
    """Write the report atomically (readers never see half a file) and return its path."""
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=target.parent, prefix=f".{target.name}.", suffix=".tmp")
    try:
        with os.fdopen(fd, "w", encoding="utf-8") as fh:
            fh.write(html_text)
        os.chmod(tmp, 0o644)  # mkstemp creates 0600; a report is meant to be shared
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target
