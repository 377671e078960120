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
from typing import Any

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import roc_auc_score
from sklearn.model_selection import cross_val_predict

from bench.news import _archive, _squad2
from bench.report import emit, table
from qa.confidence import Signals
from qa.settings import Settings

__all__ = ["main"]

# What a question that found no passage at all looks like to the model.
_NO_PASSAGE = Signals(0.0, 0.0, False, 0.0, 0.0, 0.0, False, False)
# Wikipedia articles kept out of the archive, whose questions it therefore cannot answer.
_HELD_OUT = 3
_THRESHOLDS = (0.1, 0.2, 0.3, 0.4, 0.5, 0.6)


def main() -> None:
    import faiss

    faiss.omp_set_num_threads(1)
    settings = Settings().model_copy(update={"min_confidence": 0.0, "min_relevance": 0.0})
    questions: list[Any] = []

    def write(folder: Path) -> None:
        questions.extend(_squad2(folder, _HELD_OUT))

    with _archive(settings, write) as archive:
        compositions = [archive.compose(q.text, top_k=3)[1] for q in questions]
    signals = [c.signals or _NO_PASSAGE for c in compositions]
    features = np.array([s.features() for s in signals])
    answerable = np.array([bool(q.answers) and q.in_archive for q in questions])
    off_topic = np.array([not q.in_archive for q in questions])
    model = LogisticRegression(C=1.0, max_iter=1000)
    held_out = cross_val_predict(model, features, answerable, cv=5, method="predict_proba")[:, 1]
    model.fit(features, answerable)
    fitted = model.predict_proba(features)[:, 1]
    rows = []
    for threshold in _THRESHOLDS:
        refused = fitted < threshold
        adversarial = ~answerable & ~off_topic
        rows.append(
            (
                threshold,
                float((refused & ~answerable).sum() / max(refused.sum(), 1)),
                float((refused & adversarial).sum() / adversarial.sum()),
                float((refused & off_topic).sum() / max(off_topic.sum(), 1)),
                float((refused & answerable).sum() / answerable.sum()),
            )
        )
    table(
        f"Confidence fitted on SQuAD 2.0 dev part 1 ({answerable.sum()} answerable, "
        f"{(~answerable & ~off_topic).sum()} unanswerable, {off_topic.sum()} off-topic)",
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
            "bench": "calibrate",
            "questions": len(questions),
            "features": names,
            "coefficients": coefficients,
            "intercept": round(float(model.intercept_[0]), 4),
            "roc_auc_fitted": round(float(roc_auc_score(answerable, fitted)), 4),
            "roc_auc_cross_validated": round(float(roc_auc_score(answerable, held_out)), 4),
        }
    )
