"""Scoring labels against a hand-labelled CSV (ANALYTICS_SPEC §1.3 validation).

Two fields can be scored: `category` (A–I, §1.3) and `level` (toxicity 0–4, §2.1).
Predictions come either from this project's offline labellers (embedding prototypes for
category, `score_toxicity` for level) or from a column already in the CSV, e.g. a
second annotator's labels, which needs no model at all.

Reported per field: n, accuracy, macro-F1, Cohen's kappa and, for the ordered `level`
only, quadratic weighted kappa, plus the confusion matrix (rows gold, columns predicted).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, cohen_kappa_score, confusion_matrix, f1_score

from assets.enrich.categories import CATEGORY_CODES, CATEGORY_NAMES
from assets.enrich.embedders import Embedder, make_embedder

__all__ = [
    "FIELDS",
    "FIELD_LABELS",
    "LabelScores",
    "EvaluationInputError",
    "score_labels",
    "format_scores",
    "read_labelled_csv",
    "evaluate_csv",
]

FIELDS: tuple[str, ...] = ("level", "category")
FIELD_LABELS: dict[str, tuple[Any, ...]] = {"level": (0, 1, 2, 3, 4), "category": CATEGORY_CODES}
_CATEGORY_BY_NAME = {name.lower(): code for code, name in CATEGORY_NAMES.items()}


class EvaluationInputError(ValueError):
    """The CSV or the request cannot be scored; the message says why in one line."""


@dataclass(frozen=True)
class LabelScores:
    """Agreement between gold and predicted labels for one field.

    `confusion`: counts, index = gold labels, columns = predicted labels (both over `labels`).
    `weighted_kappa`: quadratic weights, only for ordered fields (level); None otherwise.
    `method`: where the predictions came from; `notes`: skipped or folded rows, in words.
    """

    n: int
    labels: tuple[Any, ...]
    accuracy: float
    macro_f1: float
    kappa: float
    weighted_kappa: float | None
    confusion: pd.DataFrame
    method: str = ""
    notes: tuple[str, ...] = field(default=())

    def to_dict(self) -> dict[str, Any]:
        """JSON-ready: floats (None for undefined values), the matrix as nested lists."""

        def number(x: float | None) -> float | None:
            return None if x is None or math.isnan(x) else round(float(x), 6)

        return {
            "n": self.n,
            "accuracy": number(self.accuracy),
            "macro_f1": number(self.macro_f1),
            "kappa": number(self.kappa),
            "weighted_kappa": number(self.weighted_kappa),
            "method": self.method,
            "notes": list(self.notes),
            "labels": [str(label) for label in self.labels],
            "confusion": self.confusion.to_numpy().tolist(),
        }


def _kappa(gold: list[Any], predicted: list[Any], labels: list[Any], weights: str | None) -> float:
    """Cohen's kappa; 1.0 for perfect agreement even when only one class occurs (sklearn gives NaN)."""
    if gold == predicted:
        return 1.0
    with np.errstate(divide="ignore", invalid="ignore"):
        return float(cohen_kappa_score(gold, predicted, labels=labels, weights=weights))


def score_labels(
    gold: Sequence[Any], predicted: Sequence[Any], labels: Sequence[Any], *, ordered: bool = False
) -> LabelScores:
    """Accuracy, macro-F1, Cohen's kappa (+ quadratic weighted kappa when `ordered`) and the confusion matrix.

    Macro-F1 averages over the labels that occur in gold or predicted (a label nobody used
    would add a meaningless 0). For `ordered` fields the order of `labels` defines the distances.
    """
    gold = list(gold)
    predicted = list(predicted)
    labels = list(labels)
    if len(gold) != len(predicted):
        raise ValueError(f"gold has {len(gold)} labels but predicted has {len(predicted)}")
    if not gold:
        raise ValueError("nothing to score: no rows with both a gold and a predicted label")
    unknown = sorted({str(x) for x in (*gold, *predicted) if x not in labels})
    if unknown:
        raise ValueError(f"labels outside {labels}: {unknown}")
    used = [label for label in labels if label in set(gold) | set(predicted)]
    matrix = confusion_matrix(gold, predicted, labels=labels)
    return LabelScores(
        n=len(gold),
        labels=tuple(labels),
        accuracy=float(accuracy_score(gold, predicted)),
        macro_f1=float(f1_score(gold, predicted, labels=used, average="macro", zero_division=0)),
        kappa=_kappa(gold, predicted, labels, None),
        weighted_kappa=_kappa(gold, predicted, labels, "quadratic") if ordered else None,
        confusion=pd.DataFrame(
            matrix, index=pd.Index(labels, name="gold"), columns=pd.Index(labels, name="predicted")
        ),
    )


def format_scores(field_name: str, scores: LabelScores) -> str:
    """A readable block: the figures, the notes, then the confusion matrix."""
    lines = [f"{field_name}  (n = {scores.n}{', ' + scores.method if scores.method else ''})"]
    lines.append(f"  accuracy        {scores.accuracy:.3f}")
    lines.append(f"  macro-F1        {scores.macro_f1:.3f}")
    lines.append(f"  Cohen's kappa   {scores.kappa:.3f}")
    if scores.weighted_kappa is not None:
        lines.append(f"  weighted kappa  {scores.weighted_kappa:.3f}  (quadratic)")
    lines += [f"  note: {note}" for note in scores.notes]
    lines.append("  confusion matrix (rows: gold, columns: predicted)")
    table = scores.confusion.to_string()
    lines += ["    " + row for row in table.splitlines()]
    return "\n".join(lines)


# ---------------------------------------------------------------- reading a labelled CSV


def read_labelled_csv(path: str | Path) -> pd.DataFrame:
    """Every column as text ('' for empty cells), header names stripped.

    Tolerates a UTF-8 BOM, CRLF line ends, quoted fields spanning lines and extra columns.
    """
    path = Path(path)
    try:
        frame = pd.read_csv(path, dtype=str, keep_default_na=False, encoding="utf-8-sig")
    except FileNotFoundError:
        raise EvaluationInputError(f"{path}: no such file") from None
    except IsADirectoryError:
        raise EvaluationInputError(f"{path}: is a directory, not a CSV file") from None
    except pd.errors.EmptyDataError:
        raise EvaluationInputError(f"{path}: the file is empty (no header row)") from None
    except UnicodeDecodeError as err:
        raise EvaluationInputError(f"{path}: not UTF-8 text ({err.reason} at byte {err.start})") from None
    except pd.errors.ParserError as err:
        message = " ".join(str(err).split())
        raise EvaluationInputError(f"{path}: not a well-formed CSV: {message}") from None
    frame.columns = [str(name).strip() for name in frame.columns]
    return frame


def _parse_value(field_name: str, raw: str) -> Any:
    """A level as int 0–4 (5 is folded into 4 by the caller), a category as its letter; ValueError otherwise."""
    value = raw.strip()
    if field_name == "level":
        number = float(value)  # accepts "2" and "2.0"
        if not number.is_integer() or not 0 <= number <= 5:
            raise ValueError(value)
        return int(number)
    code = value.upper()
    if code in CATEGORY_CODES:
        return code
    if value.lower() in _CATEGORY_BY_NAME:
        return _CATEGORY_BY_NAME[value.lower()]
    raise ValueError(value)


def _parse_column(frame: pd.DataFrame, column: str, field_name: str) -> tuple[list[Any], int]:
    """Parsed values (None for blank cells) and how many 5s were folded into 4 (ANALYTICS_SPEC §2.1)."""
    values: list[Any] = []
    folded = 0
    allowed = "integers 0-4" if field_name == "level" else "letters A-I or category names"
    for row_number, raw in enumerate(frame[column], start=2):  # row 1 is the header
        if not raw.strip():
            values.append(None)
            continue
        try:
            value = _parse_value(field_name, raw)
        except ValueError:
            shown = raw.strip()[:40]
            raise EvaluationInputError(
                f"column {column!r}, data row {row_number - 1}: {shown!r} is not a valid {field_name} ({allowed})"
            ) from None
        if field_name == "level" and value == 5:
            value, folded = 4, folded + 1
        values.append(value)
    return values, folded


def _resolve_fields(frame: pd.DataFrame, fields: Sequence[str] | None, predicted_column: str | None) -> list[str]:
    """The fields to score: as asked (each needs its gold column), or every gold column present."""
    if fields is None:
        chosen = [name for name in FIELDS if name in frame.columns]
        if not chosen:
            raise EvaluationInputError(
                f"no gold column: the CSV needs 'level' and/or 'category' (columns: {list(frame.columns)})"
            )
    else:
        chosen = list(dict.fromkeys(fields))
        for name in chosen:
            if name not in FIELDS:
                raise EvaluationInputError(f"unknown field {name!r}; choose from {list(FIELDS)}")
            if name not in frame.columns:
                raise EvaluationInputError(f"missing gold column {name!r} (columns: {list(frame.columns)})")
    if predicted_column is not None and len(chosen) > 1:
        raise EvaluationInputError(
            f"a predicted column scores one field, but the CSV has gold {chosen}: pick one with --field"
        )
    return chosen


def _model_predictions(
    field_name: str, texts: list[str], embeddings: np.ndarray, embedder: Embedder
) -> tuple[list[Any], str]:
    """Run this project's labeller for one field on all texts: (predictions, method)."""
    if field_name == "category":
        from assets.enrich.categories import label_categories

        labelled = label_categories(texts, embeddings, embedder)
        prototype_rows = labelled["method"].str.startswith("prototype-")
        method = labelled.loc[prototype_rows, "method"].iloc[0] if prototype_rows.any() else "rules only"
        return list(labelled["category"]), f"{method} (+ rules)"
    # Imported here: the toxicity scorer is a separate module and need not exist to score categories.
    from assets.enrich.toxicity import score_toxicity

    scored = score_toxicity(texts, embeddings=embeddings, embedder=embedder)
    methods = sorted(set(map(str, scored["method"])))
    return [int(x) for x in scored["level"]], ", ".join(methods)


def evaluate_csv(
    path: str | Path,
    *,
    fields: Sequence[str] | None = None,
    predicted_column: str | None = None,
    embedder: Embedder | str = "minilm",
    device: str | None = None,
    models_dir: str | Path = "var/models",
) -> dict[str, LabelScores]:
    """Score each field of a labelled CSV; rows whose gold (or predicted) value is blank are skipped.

    The CSV needs `level` and/or `category` gold columns; extra columns are ignored.
    With `predicted_column`, that column is scored against the one chosen field and no
    model is loaded. Otherwise the CSV needs a `text` column, which is embedded once with
    `embedder` (a name for `make_embedder`, or a built embedder) and labelled by our labellers.
    """
    frame = read_labelled_csv(path)
    chosen = _resolve_fields(frame, fields, predicted_column)
    if predicted_column is not None and predicted_column not in frame.columns:
        raise EvaluationInputError(
            f"missing predicted column {predicted_column!r} (columns: {list(frame.columns)})"
        )
    if predicted_column is None and "text" not in frame.columns:
        raise EvaluationInputError(f"missing 'text' column (columns: {list(frame.columns)})")

    golds: dict[str, tuple[list[Any], int]] = {name: _parse_column(frame, name, name) for name in chosen}
    predictions: dict[str, tuple[list[Any], str, int]] = {}
    if predicted_column is not None:
        values, folded = _parse_column(frame, predicted_column, chosen[0])
        predictions[chosen[0]] = (values, f"column {predicted_column!r}", folded)
    else:
        keep = sorted({i for values, _ in golds.values() for i, v in enumerate(values) if v is not None})
        texts = [frame["text"].iat[i] for i in keep]
        model = embedder
        if isinstance(embedder, str):
            try:
                model = make_embedder(embedder, device=device, models_dir=models_dir)
            except ValueError as err:
                raise EvaluationInputError(str(err)) from None
        embeddings = model.embed(texts)
        for name in chosen:
            labelled, method = _model_predictions(name, texts, embeddings, model)
            values = [None] * len(frame)
            for i, value in zip(keep, labelled):
                values[i] = value
            predictions[name] = (values, method, 0)

    results: dict[str, LabelScores] = {}
    for name in chosen:
        gold_values, gold_folded = golds[name]
        predicted_values, method, predicted_folded = predictions[name]
        pairs = [(g, p) for g, p in zip(gold_values, predicted_values) if g is not None and p is not None]
        notes = []
        blank_gold = sum(g is None for g in gold_values)
        if blank_gold:
            notes.append(f"{blank_gold} rows skipped: blank gold {name}")
        blank_predicted = sum(g is not None and p is None for g, p in zip(gold_values, predicted_values))
        if blank_predicted:
            notes.append(f"{blank_predicted} rows skipped: blank {predicted_column!r}")
        if gold_folded or predicted_folded:
            notes.append(f"level 5 folded into 4 (ANALYTICS_SPEC §2.1): {gold_folded} gold, {predicted_folded} predicted")
        if not pairs:
            raise EvaluationInputError(f"no row has both a gold and a predicted {name}")
        scores = score_labels(
            [g for g, _ in pairs], [p for _, p in pairs], FIELD_LABELS[name], ordered=(name == "level")
        )
        results[name] = replace(scores, method=method, notes=tuple(notes))
    return results
