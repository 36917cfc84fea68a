"""Scoring labels against a labelled CSV, the shipped evaluation set, and `observatory evaluate`."""

from __future__ import annotations

import json
import re
from collections import Counter
from pathlib import Path

import pytest

from assets.enrich.categories import CATEGORY_CODES, EXEMPLARS
from assets.enrich.embedders import MiniLMEmbedder
from assets.enrich.evaluation import (
    EvaluationInputError,
    evaluate_csv,
    format_scores,
    read_labelled_csv,
    score_labels,
)
from pipelines.cli import main

SHIPPED_CSV = Path(__file__).resolve().parents[2] / "assets" / "enrich" / "data" / "labelled_posts_v1.csv"
SHIPPED_README = SHIPPED_CSV.with_name("README.md")


# ---------------------------------------------------------------- score_labels by hand


def test_perfect_agreement_scores_one() -> None:
    scores = score_labels(list("ABCA"), list("ABCA"), CATEGORY_CODES)
    assert (scores.n, scores.accuracy, scores.macro_f1, scores.kappa) == (4, 1.0, 1.0, 1.0)
    assert scores.weighted_kappa is None
    assert scores.confusion.loc["A", "A"] == 2 and int(scores.confusion.to_numpy().sum()) == 4
    # One class only: kappa is 0/0 in the formula; perfect agreement still reads 1.0.
    assert score_labels([0, 0, 0], [0, 0, 0], range(5), ordered=True).kappa == 1.0


def test_two_by_two_case() -> None:
    # gold A A A A A B B B B B, predicted A A A A B B B B A A: confusion [[4, 1], [2, 3]].
    gold = list("AAAAABBBBB")
    predicted = list("AAAABBBBAA")
    scores = score_labels(gold, predicted, ("A", "B"))
    assert scores.confusion.to_numpy().tolist() == [[4, 1], [2, 3]]
    assert list(scores.confusion.index) == ["A", "B"] and scores.confusion.index.name == "gold"
    assert scores.accuracy == pytest.approx(0.7)
    # p_o = 0.7, p_e = (5*6 + 5*4) / 100 = 0.5, kappa = (0.7 - 0.5) / (1 - 0.5) = 0.4
    assert scores.kappa == pytest.approx(0.4)
    # F1(A) = 2*4 / (6 + 5) = 8/11, F1(B) = 2*3 / (4 + 5) = 2/3
    assert scores.macro_f1 == pytest.approx((8 / 11 + 2 / 3) / 2)


def test_ordered_levels_get_quadratic_weighted_kappa() -> None:
    # gold 0 1 2, predicted 0 2 2. Unweighted: p_o = 2/3, p_e = 1/3, kappa = 0.5.
    # Quadratic: observed disagreement 1 (one cell at distance 1), expected 5 -> 1 - 1/5 = 0.8.
    scores = score_labels([0, 1, 2], [0, 2, 2], (0, 1, 2, 3, 4), ordered=True)
    assert scores.kappa == pytest.approx(0.5)
    assert scores.weighted_kappa == pytest.approx(0.8)
    # Macro-F1 over the labels used (0, 1, 2): (1 + 0 + 2/3) / 3.
    assert scores.macro_f1 == pytest.approx(5 / 9)
    assert scores.confusion.shape == (5, 5)
    # Being off by four levels costs more than off by one under quadratic weights.
    near = score_labels([0, 4, 0, 4], [1, 4, 0, 4], range(5), ordered=True)
    far = score_labels([0, 4, 0, 4], [4, 4, 0, 4], range(5), ordered=True)
    assert near.accuracy == far.accuracy and near.weighted_kappa > far.weighted_kappa


def test_score_labels_refuses_bad_input() -> None:
    with pytest.raises(ValueError, match="gold has 2"):
        score_labels(["A", "B"], ["A"], CATEGORY_CODES)
    with pytest.raises(ValueError, match="outside"):
        score_labels(["A", "Z"], ["A", "A"], CATEGORY_CODES)
    with pytest.raises(ValueError, match="nothing to score"):
        score_labels([], [], CATEGORY_CODES)


def test_format_scores_is_readable() -> None:
    text = format_scores("level", score_labels([0, 1, 2], [0, 2, 2], range(5), ordered=True))
    assert "accuracy        0.667" in text
    assert "weighted kappa  0.800  (quadratic)" in text
    assert "rows: gold, columns: predicted" in text
    assert "weighted kappa" not in format_scores("category", score_labels(["A"], ["B"], CATEGORY_CODES))


# ---------------------------------------------------------------- evaluate_csv with a prediction column


def write_bytes(path: Path, data: str) -> Path:
    path.write_bytes(data.encode("utf-8"))
    return path


@pytest.fixture()
def messy_csv(tmp_path: Path) -> Path:
    """BOM, CRLF, a quoted multi-line text, extra columns, blank gold, names, 2.0 and a level 5."""
    rows = [
        "id,text,category,level,annotator_2,level_2,note",
        '1,"Hello moltys\r\n\r\nfirst post, ""hi"" all",C,0,C,0,',
        "2,Buy $CLAW now,D,4,Economics,5,x",
        "3,Agents deserve rights,G,2.0,E,1,",
        "4,what am I,,1,A,1,no gold category",
        "5,test,H,0,H,0,",
        "6,an essay on beauty,e,0,E,,blank level_2",
    ]
    return write_bytes(tmp_path / "messy.csv", "\ufeff" + "\r\n".join(rows) + "\r\n")


def test_predicted_column_on_a_messy_csv(messy_csv: Path) -> None:
    frame = read_labelled_csv(messy_csv)
    assert list(frame.columns)[:3] == ["id", "text", "category"]  # BOM gone from the first header
    assert frame["text"].iloc[0] == 'Hello moltys\r\n\r\nfirst post, "hi" all'

    category = evaluate_csv(messy_csv, fields=["category"], predicted_column="annotator_2")["category"]
    # Row 4 has no gold category; of the 5 others, 4 agree (G vs E differs).
    assert category.n == 5 and category.accuracy == pytest.approx(0.8)
    assert category.method == "column 'annotator_2'"
    assert category.notes == ("1 rows skipped: blank gold category",)
    assert category.weighted_kappa is None

    level = evaluate_csv(messy_csv, fields=["level"], predicted_column="level_2")["level"]
    # Row 6 has no prediction; the 5 in level_2 is folded into 4; rows 1, 2, 4, 5 agree, row 3 (2 vs 1) not.
    assert level.n == 5 and level.accuracy == pytest.approx(0.8)
    assert level.weighted_kappa is not None
    assert "1 rows skipped: blank 'level_2'" in level.notes
    assert any("folded into 4" in note and "1 predicted" in note for note in level.notes)


def test_clear_errors_for_bad_csvs(tmp_path: Path, messy_csv: Path) -> None:
    no_text = write_bytes(tmp_path / "no_text.csv", "body,category\nhello,C\n")
    with pytest.raises(EvaluationInputError, match="missing 'text' column"):
        evaluate_csv(no_text)
    no_gold = write_bytes(tmp_path / "no_gold.csv", "text,label\nhello,C\n")
    with pytest.raises(EvaluationInputError, match="no gold column"):
        evaluate_csv(no_gold)
    bad_value = write_bytes(tmp_path / "bad.csv", "text,category\nhello,C\nbye,Z\n")
    with pytest.raises(EvaluationInputError, match=r"column 'category', data row 2: 'Z' is not a valid category"):
        evaluate_csv(bad_value, predicted_column="category")
    bad_level = write_bytes(tmp_path / "bad_level.csv", "text,level\nhello,2.5\n")
    with pytest.raises(EvaluationInputError, match="not a valid level"):
        evaluate_csv(bad_level, predicted_column="level")
    broken = write_bytes(tmp_path / "broken.csv", 'text,category\n"never closed,C\n')
    with pytest.raises(EvaluationInputError, match="not a well-formed CSV"):
        evaluate_csv(broken)
    with pytest.raises(EvaluationInputError, match="no such file"):
        evaluate_csv(tmp_path / "absent.csv")
    with pytest.raises(EvaluationInputError, match="missing predicted column 'nope'"):
        evaluate_csv(messy_csv, fields=["category"], predicted_column="nope")
    with pytest.raises(EvaluationInputError, match="pick one with --field"):
        evaluate_csv(messy_csv, predicted_column="annotator_2")


# ---------------------------------------------------------------- the shipped evaluation set


def test_shipped_csv_parses_and_matches_its_readme() -> None:
    frame = read_labelled_csv(SHIPPED_CSV)
    assert list(frame.columns) == ["text", "category", "level"]
    assert len(frame) == 270 and frame["text"].is_unique
    assert set(frame["category"]) == set(CATEGORY_CODES)
    assert set(frame["level"]) == {"0", "1", "2", "3", "4"}
    by_category = Counter(frame["category"])
    by_level = Counter(frame["level"])
    assert min(by_category.values()) >= 20 and min(by_level.values()) >= 25
    # The README's table states the same counts, cell by cell.
    table = {}
    for line in SHIPPED_README.read_text(encoding="utf-8").splitlines():
        match = re.match(r"\| ([A-I]) \w+ \|((?: \d+ \|){6})$", line)
        if match:
            table[match.group(1)] = [int(x) for x in match.group(2).replace("|", " ").split()]
    assert sorted(table) == list(CATEGORY_CODES)
    for code, cells in table.items():
        rows = frame[frame["category"] == code]
        assert cells == [int((rows["level"] == str(level)).sum()) for level in range(5)] + [len(rows)], code
    # The prototypes' exemplars are not evaluation rows.
    exemplars = {s for items in EXEMPLARS.values() for s in items}
    assert exemplars & set(frame["text"]) == set()


def test_shipped_csv_scored_against_itself_is_perfect() -> None:
    results = evaluate_csv(SHIPPED_CSV, fields=["level"], predicted_column="level")
    assert results["level"].n == 270 and results["level"].weighted_kappa == 1.0


# ---------------------------------------------------------------- with the real labellers


def test_model_mode_labels_categories(tmp_path: Path, minilm: MiniLMEmbedder) -> None:
    csv_path = write_bytes(
        tmp_path / "small.csv",
        "text,category\n"
        '"Hi all, new agent here\n\nNice to meet everyone!",C\n'
        "asdf,H\n"
        '"Tokenomics of our coin\n\nSupply is fixed at one million, no staking.",D\n'
        ",\n",
    )
    scores = evaluate_csv(csv_path, fields=["category"], embedder=minilm)["category"]
    assert scores.n == 3
    assert scores.method.startswith("prototype-v1:all-MiniLM-L6-v2")
    assert scores.confusion.loc["H", "H"] == 1  # the rule layer
    assert scores.notes == ("1 rows skipped: blank gold category",)


def test_model_mode_scores_levels_with_the_toxicity_scorer(tmp_path: Path, minilm: MiniLMEmbedder) -> None:
    pytest.importorskip("assets.enrich.toxicity")
    csv_path = write_bytes(
        tmp_path / "levels.csv",
        "text,level\n"
        "Good morning moltys! Hope your queues are short today.,0\n"
        "Reply with your seed phrase to claim the airdrop.,4\n",
    )
    scores = evaluate_csv(csv_path, fields=["level"], embedder=minilm)["level"]
    assert scores.n == 2 and scores.weighted_kappa is not None and scores.method


@pytest.mark.slow
def test_category_labeller_on_the_shipped_set(minilm: MiniLMEmbedder) -> None:
    """A floor, not a target: v1 scored accuracy 0.83, kappa 0.80 on this set (prototypes not tuned on it)."""
    scores = evaluate_csv(SHIPPED_CSV, fields=["category"], embedder=minilm)["category"]
    assert scores.accuracy >= 0.75 and scores.kappa >= 0.7


# ---------------------------------------------------------------- the command line


def test_cli_evaluate_with_a_predicted_column(messy_csv: Path, capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["evaluate", str(messy_csv), "--field", "category", "--predicted-column", "annotator_2"])
    out = capsys.readouterr().out
    assert status == 0
    assert "accuracy        0.800" in out and "Cohen's kappa" in out and "confusion matrix" in out

    status = main(["evaluate", str(messy_csv), "--field", "level", "--predicted-column", "level_2", "--json"])
    report = json.loads(capsys.readouterr().out)
    assert status == 0
    assert report["fields"]["level"]["n"] == 5
    assert report["fields"]["level"]["accuracy"] == pytest.approx(0.8)
    assert len(report["fields"]["level"]["confusion"]) == 5


def test_cli_evaluate_bad_csv_exits_2(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    bad = write_bytes(tmp_path / "bad.csv", "body,category\nhello,C\n")
    assert main(["evaluate", str(bad)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error: missing 'text' column") and err.count("\n") == 1
