"""The comparative HTML report: self-contained, offline, and immune to agent-written markup."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from assets.reports.html_report import render_society_report, script_safe_json, write_report

EVIL = "</script><script>alert(1)</script>"
EVIL_SOCIETY = f"sim-{EVIL}"
SOCIETIES = ["moltbook", "sim-moltbook_like-1", EVIL_SOCIETY]
GENERATED = pd.Timestamp("2026-02-05T10:00:00Z")


def metric(sid, family, name, value, low=None, high=None, n=10):
    return dict(society_id=sid, family=family, metric=name, value=value, ci_low=low, ci_high=high, n=n,
                computed_at=GENERATED)  # fmt: skip


@pytest.fixture(scope="module")
def report() -> str:
    societies = pd.DataFrame(
        {
            "society_id": SOCIETIES,
            "kind": ["live", "sim", "sim"],
            "platform": ["moltbook", "builtin", "builtin"],
            "preset": [None, "moltbook_like", "high_socialization"],
            "n_posts": [1710, 500, 400],
        }
    )
    rows = []
    for i, sid in enumerate(SOCIETIES):
        rows += [
            metric(sid, "threads", "mean_max_depth", 1.07 + i, 1.0 + i, 1.2 + i, 300),
            metric(sid, "threads", "share_comments_depth1", 0.9 - i / 10, 0.85 - i / 10, 0.95 - i / 10, 900),
            metric(sid, "influence", "agent_posting_gini", 0.6, 0.55, 0.65, 800),
        ]
    # the CSV export has no upvotes: not available
    rows.append(metric("moltbook", "influence", "agent_upvote_gini", None, None, None, 0))
    rows += [metric(s, "influence", "agent_upvote_gini", 0.9, 0.85, 0.95, 500) for s in SOCIETIES[1:]]
    metrics = pd.DataFrame(rows)
    thread_stats = pd.DataFrame(
        {
            "society_id": [s for s in SOCIETIES for _ in range(3)],
            "post_id": [f"p{i}" for i in range(9)],
            "max_depth": [1, 1, 2, 1, 2, 3, 1, 4, 4],
            "is_capped": [False] * 9,
            "n_orphans": [0] * 9,
        }
    )
    topic_info = pd.DataFrame(
        {
            "society_id": ["moltbook", "moltbook", "moltbook", EVIL_SOCIETY],
            "model_id": ["m1", "m1", "m1", "m3"],
            "topic": [-1, 0, 1, 0],
            "size": [999, 40, 25, 12],
            "label": ["outliers", EVIL, "crypto\u2028tokens & mints", None],
            "top_terms": [["a"], ["x", "y"], ["crypto", "token"], ["<b>bold</b>", "<a href=x>link</a>"]],
        }
    )
    label_counts = pd.DataFrame(
        {
            "society_id": ["moltbook", "moltbook", "moltbook", EVIL_SOCIETY, "moltbook", EVIL_SOCIETY],
            "field": ["category", "category", "toxicity", "toxicity", "emotion", "emotion"],
            "value": ["C", "E", "0", "4", "joy", EVIL],
            "n": [3, 1, 10, 5, 7, 2],
        }
    )
    return render_society_report(societies, metrics, thread_stats, topic_info, GENERATED, label_counts)


def without_bundle(html: str) -> str:
    bundle = get_plotlyjs()
    assert html.count(bundle) == 1
    return html.replace(bundle, "")


def figure_payloads(html: str) -> list[str]:
    return re.findall(r"var fig = (.*?);Plotly\.newPlot", without_bundle(html), flags=re.S)


def test_is_one_html_document(report):
    assert report.startswith("<!DOCTYPE html>")
    assert report.count("<html") == 1 and report.rstrip().endswith("</html>")


def test_plotly_is_bundled_inline_exactly_once(report):
    without_bundle(report)  # asserts the count


def test_nothing_is_loaded_from_outside(report):
    rest = without_bundle(report).lower()
    assert re.findall(r"<script[^>]*>", rest) == ['<script type="text/javascript">'] + ["<script>"] * (
        len(re.findall(r"<script[^>]*>", rest)) - 1
    )  # no src= on any script tag
    assert "<link" not in rest and "@import" not in rest and "url(" not in rest
    assert not re.search(r"""(?:src|href)\s*=\s*["']?\s*(?:https?:)?//""", rest)
    assert "http://" not in rest and "https://" not in rest


def test_every_society_is_shown(report):
    for sid in ["moltbook", "sim-moltbook_like-1"]:
        assert sid in report
    assert "high_socialization" in report and "1,710" not in report and "1710" in report


def test_injected_markup_appears_only_escaped(report):
    rest = without_bundle(report)
    assert EVIL not in rest
    assert "<script>alert(1)" not in rest
    assert "<b>bold</b>" not in rest and "<a href=x>" not in rest
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in rest  # the society name and label, as text


def test_figure_json_is_script_safe_and_keeps_the_text(report):
    payloads = figure_payloads(report)
    assert len(payloads) >= 4  # threads, influence, depth distribution, topics
    for p in payloads:
        assert not set(p) & {"<", ">", "&", "\u2028", "\u2029"}
    texts = json.dumps([json.loads(p) for p in payloads], ensure_ascii=False)
    # after JSON decoding Plotly sees entities, which it displays as literal text, never as tags
    assert "&lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in texts
    assert EVIL not in texts


def test_script_safe_json_escapes():
    raw = json.dumps({"s": "</script>&\u2028\u2029"}, ensure_ascii=False)
    safe = script_safe_json(raw)
    assert safe == '{"s": "\\u003c/script\\u003e\\u0026\\u2028\\u2029"}'
    assert json.loads(safe) == {"s": "</script>&\u2028\u2029"}


def test_null_metric_renders_as_na_with_its_n(report):
    row = re.search(r"<tr><td>influence\.agent_upvote_gini</td>(.*?)</tr>", report, flags=re.S)
    assert row is not None
    cells = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), flags=re.S)
    assert len(cells) == len(SOCIETIES)
    assert "n/a" in cells[0] and "n=0" in cells[0]  # moltbook: upvotes not available
    assert "0.9" in cells[1] and "n/a" not in cells[1]


def test_values_show_ci_and_n(report):
    row = re.search(r"<tr><td>threads\.mean_max_depth</td>(.*?)</tr>", report, flags=re.S)
    first = re.findall(r"<td[^>]*>(.*?)</td>", row.group(1), flags=re.S)[0]
    assert "1.07" in first and "[1, 1.2]" in first and "n=300" in first


def test_topics_skip_the_outlier_topic(report):
    assert "outliers" not in without_bundle(report)


def test_write_report(tmp_path, report):
    path = write_report(report, tmp_path / "out" / "society_report.html")
    assert path.read_text(encoding="utf-8") == report
    assert [p.name for p in path.parent.iterdir()] == ["society_report.html"]


CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.mark.skipif(CHROMIUM is None, reason="headless Chromium not installed (apt-get install chromium)")
def test_renders_its_charts_in_headless_chromium_without_any_request(report, tmp_path):
    page = write_report(report, tmp_path / "report.html")
    result = subprocess.run(
        [
            CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr", "--v=0",
            "--virtual-time-budget=5000", "--dump-dom", page.as_uri(),
        ],
        capture_output=True, text=True, timeout=120,
    )
    dom, console = result.stdout, result.stderr
    # Every figure was drawn by the inline plotly.js.
    assert dom.count('class="plot-container plotly"') == report.count("Plotly.newPlot") >= 2
    # The page's CSP blocks any load; Chromium logs each attempt, so none may appear.
    assert "Content Security Policy" not in console
    assert "Uncaught" not in console
    # The injected label stayed text: no script element carries it.
    assert "<script>alert(1)</script>" not in dom


def test_label_shares_are_charted_per_society(report):
    payloads = [json.loads(p) for p in figure_payloads(report)]
    by_title = {p["layout"]["title"]["text"]: p for p in payloads if "title" in p["layout"]}
    category = by_title["Content category of posts"]
    assert {trace["name"]: trace["x"] for trace in category["data"]} == {"Socializing": [0.75], "Viewpoint": [0.25]}
    toxicity = by_title["Toxicity level of posts"]
    assert {trace["name"]: trace["x"] for trace in toxicity["data"]} == {"0 Safe": [1.0, 0.0], "4 Malicious": [0.0, 1.0]}
    assert "<script>alert" not in without_bundle(report)
