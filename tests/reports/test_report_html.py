"""The comparative HTML report: self-contained, offline, and immune to agent-written markup."""

from __future__ import annotations

import json
import re
import shutil
import subprocess

import duckdb
import pandas as pd
import pytest
from plotly.offline import get_plotlyjs

from assets.metrics.findings import evaluate_findings, findings_table
from assets.metrics.registry import REGISTRY_COLUMNS, MetricSpec
from assets.reports.html_report import incomparable_cells, render_society_report, script_safe_json, write_report

EVIL = "</script><script>alert(1)</script>"
EVIL_SOCIETY = f"sim-{EVIL}"
SOCIETIES = ["moltbook", "sim-moltbook_like-1", EVIL_SOCIETY]
GENERATED = pd.Timestamp("2026-02-05T10:00:00Z")


def metric(sid, family, name, value, low=None, high=None, n=10):
    return dict(society_id=sid, family=family, metric=name, value=value, ci_low=low, ci_high=high, n=n,
                computed_at=GENERATED)  # fmt: skip


def report_inputs() -> dict[str, pd.DataFrame]:
    """Three societies with thread and influence metrics, topics and labels (no registry, analysis or findings)."""
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
    return dict(societies=societies, metrics=metrics, thread_stats=thread_stats, topic_info=topic_info,
                label_counts=label_counts)


def render(**changes: pd.DataFrame | None) -> str:
    inputs = {**report_inputs(), **changes}
    return render_society_report(
        inputs.pop("societies"), inputs.pop("metrics"), inputs.pop("thread_stats"), inputs.pop("topic_info"),
        GENERATED, **inputs,
    )


@pytest.fixture(scope="module", params=["as older callers render it", "with every optional input"])
def report(request: pytest.FixtureRequest) -> str:
    """The report as older callers render it (positional inputs, label counts), and with the metric
    registry, the society_analysis rows and the §8.2 findings: both must stay safe."""
    i = report_inputs()
    if request.param == "as older callers render it":
        return render_society_report(i["societies"], i["metrics"], i["thread_stats"], i["topic_info"], GENERATED,
                                     i["label_counts"])
    return render(registry=REGISTRY, analysis=analysis(**{"moltbook": "minilm", EVIL_SOCIETY: "mpnet"}),
                  findings=pd.concat([findings_for(sid) for sid in SOCIETIES], ignore_index=True))


def metric_cells(html: str, key: str) -> list[str]:
    """The society cells (whole <td> elements) of the comparison-table row of `key` (family.metric)."""
    row = re.search(rf'<tr><td class="metric">{re.escape(key)}.*?</td>(.*?)</tr>', html, flags=re.S)
    assert row is not None, key
    return re.findall(r"<td[^>]*>.*?</td>", row.group(1), flags=re.S)


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
    cells = metric_cells(report, "influence.agent_upvote_gini")
    assert len(cells) == len(SOCIETIES)
    assert "n/a" in cells[0] and "n=0" in cells[0]  # moltbook: upvotes not available
    assert "0.9" in cells[1] and "n/a" not in cells[1]


def test_values_show_ci_and_n(report):
    first = metric_cells(report, "threads.mean_max_depth")[0]
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


# --------------------------------------------------------------------------- registry, comparability, findings


def registry(*specs: MetricSpec) -> pd.DataFrame:
    return pd.DataFrame([[getattr(s, c) for c in REGISTRY_COLUMNS] for s in specs], columns=REGISTRY_COLUMNS)


REGISTRY = registry(
    MetricSpec("threads", "mean_max_depth", "threads", "paper-named", "bootstrap", "≈ 1.07 (shallow)",
               "1.07", "P", "Anatomy, arXiv:2602.10131"),
    MetricSpec("threads", "share_comments_depth1", "comments", "paper-defined", "wilson", "≈ 0.94"),
    MetricSpec("influence", "agent_posting_gini", "agents", "proposed", "bootstrap", "high",
               "0.601", "S", "Let There Be Claws, arXiv:2602.20044"),
)  # influence.agent_upvote_gini is left out on purpose


def analysis(**model_by_society: str | None) -> pd.DataFrame:
    """society_analysis rows: the given embedding model per society, the same label methods for all."""
    return pd.DataFrame({
        "society_id": list(model_by_society), "pipeline_version": "0.1.0", "model_id": list(model_by_society.values()),
        "category_method": "rules:v1", "toxicity_method": "rules:v1", "emotion_method": "lexicon:v1", "seed": 1,
        "computed_at": GENERATED,
    })  # fmt: skip


def note(html: str, key: str) -> str:
    """The metric note of `key`, found through the reference number in its table row."""
    row = re.search(rf'<tr><td class="metric">{re.escape(key)}(.*?)</td>', html, flags=re.S)
    assert row is not None, key
    number = re.search(r'<a href="#note-(\d+)">\1</a>', row.group(1))
    assert number is not None, row.group(1)
    item = re.search(rf'<li id="note-{number.group(1)}"[^>]*>(.*?)</li>', html, flags=re.S)
    assert item is not None
    return item.group(1)


def test_each_metric_carries_its_provenance_badge_and_note_from_the_registry():
    html = render(registry=REGISTRY)
    row = re.search(r'<tr><td class="metric">threads\.mean_max_depth(.*?)</td>', html).group(1)
    assert '<span class="badge paper-named"' in row and ">paper-named</span>" in row
    named = note(html, "threads.mean_max_depth")
    assert "<code>threads.mean_max_depth</code>" in named and "Unit: threads." in named
    assert "our operationalization of the measure named in Anatomy, arXiv:2602.10131" in named
    assert "95 % interval: bootstrap over the unit." in named
    assert "Expected on a Moltbook-like society: ≈ 1.07 (shallow)." in named
    assert "Moltbook: 1.07, evidence [P], source Anatomy, arXiv:2602.10131." in named
    defined = note(html, "threads.share_comments_depth1")
    assert "paper-defined" in defined and "operationalization" not in defined
    assert "Wilson score interval" in defined and "Moltbook:" not in defined  # nothing published
    proposed = note(html, "influence.agent_posting_gini")
    assert "Definition: proposed: added by this project" in proposed and "evidence [S]" in proposed
    assert '<section id="metric-notes"><h2>Metric notes</h2>' in html
    assert len(re.findall(r'<li id="note-\d+"', html)) == 4  # one per metric row


def test_a_metric_missing_from_the_registry_still_renders_and_says_so():
    html = render(registry=REGISTRY)
    row = re.search(r'<tr><td class="metric">influence\.agent_upvote_gini(.*?)</td>', html).group(1)
    assert ">not in registry</span>" in row
    assert note(html, "influence.agent_upvote_gini").endswith("not in registry: no unit, definition provenance "
                                                              "or interval method is recorded for this metric.")
    assert "0.9" in metric_cells(html, "influence.agent_upvote_gini")[1]  # its values are still shown
    empty = render(registry=REGISTRY.iloc[0:0])
    assert empty.count(">not in registry</span>") == 4


def test_without_a_registry_there_are_no_badges_or_notes():
    html = render()
    assert 'class="badge' not in html and "metric-notes" not in html and 'id="findings"' not in html


def grey_inputs() -> dict[str, pd.DataFrame]:
    """Two societies with an embedding metric (socialization) and a structural one (threads)."""
    rows = [metric(s, fam, name, 0.5, 0.4, 0.6, 50)
            for s in SOCIETIES for fam, name in [("socialization", "drift_ratio_tail"), ("threads", "mean_max_depth")]]
    return dict(metrics=pd.DataFrame(rows))


def greyed(cells: list[str]) -> list[bool]:
    return ["incomparable" in re.match(r"<td[^>]*>", c).group(0) for c in cells]


def test_embedding_metrics_are_greyed_when_the_models_differ():
    html = render(**grey_inputs(), analysis=analysis(**{"moltbook": "minilm", "sim-moltbook_like-1": "mpnet"}))
    cells = metric_cells(html, "socialization.drift_ratio_tail")
    assert greyed(cells) == [True, True, False]  # the third society has no society_analysis row
    title = re.search(r'title="([^"]*)"', cells[0]).group(1)
    assert title == ("not comparable across these societies: "
                     "model_id differs (moltbook: minilm, sim-moltbook_like-1: mpnet)")
    assert greyed(metric_cells(html, "threads.mean_max_depth")) == [False, False, False]  # reads no embeddings
    assert "cells are not to be compared" in html  # the header says what grey means
    assert "<td>mpnet</td>" in html  # and shows how each society was processed


def test_nothing_is_greyed_when_the_models_are_the_same():
    html = render(**grey_inputs(), analysis=analysis(**{s: "minilm" for s in SOCIETIES}))
    assert greyed(metric_cells(html, "socialization.drift_ratio_tail")) == [False, False, False]
    assert 'class="num incomparable"' not in html


def test_a_different_label_method_greys_the_families_that_read_it():
    frame = analysis(**{s: "minilm" for s in SOCIETIES})
    frame.loc[frame["society_id"] == EVIL_SOCIETY, "toxicity_method"] = "llm:judge"
    out = incomparable_cells(frame, SOCIETIES)
    assert sorted(out) == ["moltnet", "toxicity"]  # socialization and automation read embeddings only
    assert set(out["toxicity"]) == set(SOCIETIES)
    assert "toxicity_method differs" in out["toxicity"]["moltbook"] and "model_id" not in out["toxicity"]["moltbook"]
    # the hostile society id ends up only inside an escaped title attribute
    frame = pd.DataFrame({"society_id": SOCIETIES, "toxicity_method": ["a", "b", "c"]})
    html = render(metrics=pd.DataFrame([metric(s, "toxicity", "harmful_share", 0.1) for s in SOCIETIES]),
                  analysis=frame.reindex(columns=[*frame.columns, "model_id", "category_method", "emotion_method"]))
    assert greyed(metric_cells(html, "toxicity.harmful_share")) == [True, True, True]
    assert EVIL not in without_bundle(html)


def findings_for(sid: str) -> pd.DataFrame:
    """The real §8.2 evaluation on a society that reproduces finding 13 and lacks every other metric."""
    rows = pd.DataFrame(
        [("threads", "mean_max_depth", 1.07, 1.05, 1.09, 300),
         ("threads", "share_comments_depth1", 0.94, 0.93, 0.95, 900),
         ("threads", "unanswered_comment_share", 0.93, 0.92, 0.94, 900),
         ("moltnet", "author_return_rate", 0.09, 0.08, 0.1, 200)],
        columns=["family", "metric", "value", "ci_low", "ci_high", "n"])  # fmt: skip
    return findings_table(evaluate_findings(rows)).assign(society_id=sid)


def test_published_findings_are_shown_per_society_and_escaped():
    hostile = findings_for(EVIL_SOCIETY)
    hostile.loc[hostile["finding"] == 11, ["status", "observed"]] = ["not reproduced", f"0.05 {EVIL}"]
    findings = pd.concat([findings_for("moltbook"), hostile], ignore_index=True)
    html = render(findings=findings)
    section = re.search(r'<section id="findings"><h2>Published findings \(§8\.2\)</h2>(.*?)</section>', html,
                        flags=re.S)
    assert section is not None
    text = section.group(1)
    assert EVIL not in text and "0.05 &lt;/script&gt;&lt;script&gt;alert(1)&lt;/script&gt;" in text
    assert "<summary>sim-&lt;/script&gt;" in text  # the hostile society id, as text
    assert "<summary>moltbook: 1 reproduced, 0 not reproduced, 20 not available</summary>" in text
    matrix = re.search(r"<tbody>(.*?)</tbody>", text, flags=re.S).group(1)
    assert matrix.count("<tr>") == 21
    shallow = re.search(r"<tr><td class=\"num\">13</td><td>Shallow threads, absent authors</td>(.*?)</tr>", matrix)
    assert re.findall(r">([a-z ]+)</td>", shallow.group(1)) == ["reproduced", "reproduced"]
    assert '<td class="st-not-reproduced"' in matrix  # finding 11 of the hostile society
    assert "mean_max_depth 1.07 [1.05, 1.09]; share_comments_depth1 0.94 [0.93, 0.95]" in text  # observed values
    assert "not computed" in text  # the reason of a finding that is not available


def test_the_report_reads_registry_analysis_and_findings_from_a_real_warehouse(warehouse_path):
    from assets.metrics.provenance import write_metric_registry
    from assets.reports.defs import load_report_inputs
    from warehouse.migrate import migrate

    with duckdb.connect(str(warehouse_path)) as conn:
        migrate(conn)
        conn.execute("INSERT INTO societies (society_id, kind, platform) VALUES "
                     "('moltbook', 'live', 'moltbook'), ('sim-a', 'sim', 'builtin'), ('sim-b', 'sim', 'builtin')")
        conn.executemany(
            "INSERT INTO society_metric VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
            [[s, fam, name, v, v - 0.01, v + 0.01, 100, GENERATED]
             for s in ("moltbook", "sim-a", "sim-b")
             for fam, name, v in [("threads", "mean_max_depth", 1.07), ("socialization", "drift_ratio_tail", 1.0),
                                  ("threads", "made_up_metric", 2.0)]])  # fmt: skip
        write_metric_registry(conn)
        conn.executemany(
            "INSERT INTO society_analysis VALUES (?, '0.1.0', ?, 'rules:v1', 'rules:v1', 'lexicon:v1', 1, ?)",
            [["moltbook", "minilm", GENERATED], ["sim-a", "mpnet", GENERATED]])  # sim-b: none recorded
    with duckdb.connect(str(warehouse_path), read_only=True) as conn:
        inputs = load_report_inputs(conn)
    findings = inputs["findings"]
    assert findings.groupby("society_id").size().to_dict() == {"moltbook": 21, "sim-a": 21, "sim-b": 21}
    assert findings.set_index(["society_id", "finding"]).loc[("sim-a", 1), "status"] == "not available"
    html = render_society_report(
        inputs["societies"], inputs["metrics"], inputs["thread_stats"], inputs["topic_info"], GENERATED,
        inputs["label_counts"], registry=inputs["registry"], analysis=inputs["analysis"], findings=findings,
    )
    named = note(html, "threads.mean_max_depth")
    assert "our operationalization of the measure named in Anatomy, arXiv:2602.10131" in named
    assert note(html, "threads.made_up_metric").startswith("<code>threads.made_up_metric</code> not in registry")
    assert greyed(metric_cells(html, "socialization.drift_ratio_tail")) == [True, True, False]
    assert greyed(metric_cells(html, "threads.mean_max_depth")) == [False, False, False]
    assert html.count("<details><summary>") == 3
