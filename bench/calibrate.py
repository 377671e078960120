"""Fits the answer confidence (``qa/confidence.py``) on SQuAD 2.0 dev part 1 and prints it.

The contexts of all but the last ``_HELD_OUT`` Wikipedia articles become articles of a real
Archive. Each question (answerable; written to look answerable from the same paragraph; or
asked of a held-out article, so off-topic for this archive) is answered with abstention off (no
relevance floor, no confidence threshold), and the signals of its best citation are kept. A
logistic regression (scikit-learn) of "answerable" on those signals gives the coefficients;
five-fold cross-validated ROC AUC says how well they generalise, and the table shows what each
confidence threshold refuses. Copy the printed coefficients into ``qa/confidence.py`` and pick
``min_confidence`` from the table.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import precision_score, recall_score, roc_auc_score
from sklearn.model_selection import cross_val_predict

from bench.corpus import archive, one_query_at_a_time
from bench.report import emit, table
from bench.squad2 import Squad2Question, write_articles
from qa.confidence import Signals
from qa.settings import Settings

__all__ = ["main"]

# What a question that found no passage at all looks like to the model.
_NO_PASSAGE = Signals(0.0, 0.0, False, 0.0, 0.0, 0.0, False, False)
# Wikipedia articles kept out of the archive, whose questions it therefore cannot answer.
_HELD_OUT = 3
_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def main() -> None:
    one_query_at_a_time()
    settings = Settings().model_copy(update={"min_confidence": 0.0, "min_relevance": 0.0})
    questions: list[Squad2Question] = []

    def write(folder: Path) -> None:
        questions.extend(write_articles(folder, _HELD_OUT))

    with archive(settings, write) as squad2:
        compositions = [squad2.compose(q.text, top_k=3)[1] for q in questions]
    signals = [c.signals or _NO_PASSAGE for c in compositions]
    features = np.array([s.features() for s in signals])
    answerable = np.array([bool(q.answers) and q.in_archive for q in questions])
    off_topic = np.array([not q.in_archive for q in questions])
    model = LogisticRegression(C=1.0, max_iter=1000)
    held_out = cross_val_predict(model, features, answerable, cv=5, method="predict_proba")[:, 1]
    model.fit(features, answerable)
    fitted = model.predict_proba(features)[:, 1]
    adversarial = ~answerable & ~off_topic
    rows = []
    for threshold in _THRESHOLDS:
        refused = fitted < threshold
        rows.append(
            (
                threshold,
                float(precision_score(~answerable, refused, zero_division=0)),
                float(recall_score(adversarial, refused, zero_division=0)),
                float(recall_score(off_topic, refused, zero_division=0)),
                float(refused[answerable].mean()),
            )
        )
    table(
        f"Confidence fitted on SQuAD 2.0 dev part 1 ({answerable.sum()} answerable, "
        f"{adversarial.sum()} unanswerable, {off_topic.sum()} off-topic)",
        ("threshold", "abstention precision", "unanswerable refused", "off-topic refused",
         "answerable refused"),
        rows,
    )  # fmt: skip
    names = list(Signals.__dataclass_fields__)
    coefficients = [round(float(c), 4) for c in model.coef_[0]]
    print(f"  COEFFICIENTS = {tuple(coefficients)}  # {', '.join(names)}")
    print(f"  INTERCEPT = {round(float(model.intercept_[0]), 4)}")
    emit(
        {
            "benchmark": "calibrate",
            "questions": len(questions),
            "features": names,
            "coefficients": coefficients,
            "intercept": round(float(model.intercept_[0]), 4),
            "roc_auc_fitted": round(float(roc_auc_score(answerable, fitted)), 4),
            "roc_auc_cross_validated": round(float(roc_auc_score(answerable, held_out)), 4),
        }
    )
