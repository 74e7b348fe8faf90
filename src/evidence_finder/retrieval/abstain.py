"""Abstention: decide that the corpus does not cover a question.

A small logistic model over retrieval features (how far the best dense match stands out,
BM25 scores, and how many names or numbers in the question the corpus never mentions), fitted by ``evidence calibrate`` on the eval set's answerable and
unanswerable *dev* questions, per embedder (similarity scales differ between models).
``evidence calibrate`` writes to ``<data_dir>/calibration/abstention.json``; a model found
there wins over the packaged parameters in ``abstention.json`` beside this module (to ship a
new calibration, copy the entry there). With no calibration for the active embedder the
system never abstains (except on an empty result).
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from evidence_finder.settings import get_settings

# Dense similarities were tried and dropped: e5 scores unanswerable questions almost as high
# as answerable ones (top-1 0.871 vs 0.873), and their fitted weights flipped sign between
# feature sets. What separates them is lexical: how well the corpus's words cover the
# question, and names or numbers it never mentions.
FEATURES = ("bm25_per_term", "unknown_names")
PARAMS_PATH = Path(__file__).with_name("abstention.json")  # packaged; never written at run time


def calibration_path(data_dir: Path) -> Path:
    """Where `evidence calibrate` writes its fitted models for an installation."""
    return data_dir / "calibration" / "abstention.json"


@dataclass
class AbstentionModel:
    weights: dict[str, float] = field(default_factory=dict)
    bias: float = 0.0
    threshold: float = 0.5  # abstain when P(answerable) < threshold
    calibrated: bool = False

    def confidence(self, features: dict[str, float]) -> float:
        """Estimated probability that the corpus answers the question."""
        if not self.calibrated:
            return 1.0
        z = self.bias + sum(self.weights.get(f, 0.0) * _transform(f, features.get(f, 0.0))
                            for f in FEATURES)
        return 1.0 / (1.0 + math.exp(-max(min(z, 50.0), -50.0)))

    def abstains(self, features: dict[str, float]) -> bool:
        return self.calibrated and self.confidence(features) < self.threshold

    @staticmethod
    def load(embedder_id: str, path: Path | None = None, *,
             data_dir: Path | None = None) -> AbstentionModel:
        """The model for ``embedder_id``: from ``path`` if given, else from the data directory's
        calibration (default: the configured data_dir), else the packaged parameters."""
        if path is not None:
            paths = [path]
        else:
            paths = [calibration_path(data_dir or get_settings().data_dir), PARAMS_PATH]
        for candidate in paths:
            entry = _read(candidate).get(embedder_id)
            if entry:
                return AbstentionModel(entry["weights"], entry["bias"], entry["threshold"], True)
        return AbstentionModel()

    def save(self, embedder_id: str, path: Path, info: dict | None = None) -> None:
        """Add or replace the entry for ``embedder_id`` in ``path``, keeping other embedders'."""
        data = _read(path)
        data[embedder_id] = {"weights": self.weights, "bias": self.bias,
                             "threshold": self.threshold, **(info or {})}
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_text(json.dumps(data, indent=2, sort_keys=True) + "\n")
        tmp.replace(path)


def _read(path: Path) -> dict:
    return json.loads(path.read_text()) if path.exists() else {}


def _transform(name: str, value: float) -> float:
    # BM25 scores grow with query length; the log keeps them on the scale of similarities.
    return math.log1p(max(value, 0.0)) if name.startswith("bm25") else value


def fit(samples: list[tuple[dict[str, float], bool]], epochs: int = 3000, lr: float = 0.5,
        l2: float = 1e-3, max_false_abstention: float = 0.05) -> AbstentionModel:
    """Fit P(answerable | features) by class-balanced logistic regression, then pick the
    abstention threshold on the same samples (see below)."""
    xs = [[_transform(f, s.get(f, 0.0)) for f in FEATURES] for s, _ in samples]
    ys = [1.0 if answerable else 0.0 for _, answerable in samples]
    n_pos = max(sum(ys), 1.0)
    n_neg = max(len(ys) - sum(ys), 1.0)
    sw = [0.5 / n_pos if y else 0.5 / n_neg for y in ys]
    means = [sum(col) / len(col) for col in zip(*xs)]
    stds = [max(math.sqrt(sum((v - m) ** 2 for v in col) / len(col)), 1e-6)
            for col, m in zip(zip(*xs), means)]
    zs = [[(v - m) / s for v, m, s in zip(x, means, stds)] for x in xs]
    w = [0.0] * len(FEATURES)
    b = 0.0
    for _ in range(epochs):
        gw = [0.0] * len(w)
        gb = 0.0
        for x, y, weight in zip(zs, ys, sw):
            p = 1.0 / (1.0 + math.exp(-(b + sum(wi * xi for wi, xi in zip(w, x)))))
            for j, xj in enumerate(x):
                gw[j] += weight * (p - y) * xj
            gb += weight * (p - y)
        w = [wi - lr * (g + l2 * wi) for wi, g in zip(w, gw)]
        b -= lr * gb
    # Fold the standardisation into the weights so the model reads raw features.
    weights = {f: wi / s for f, wi, s in zip(FEATURES, w, stds)}
    bias = b - sum(wi * m / s for wi, m, s in zip(w, means, stds))
    model = AbstentionModel(weights, bias, 0.5, True)
    probs = [model.confidence(s) for s, _ in samples]
    # A wrong "no evidence" costs a user more than a weak answer: take the threshold that
    # abstains on the most unanswerable questions while wrongly abstaining on at most
    # ``max_false_abstention`` of the answerable ones.
    best = (-1.0, 0.0)
    for t in sorted(set(probs)) + [0.0]:
        tnr = sum(1 for p, y in zip(probs, ys) if not y and p < t) / n_neg
        far = sum(1 for p, y in zip(probs, ys) if y and p < t) / n_pos
        if far <= max_false_abstention and tnr > best[0]:
            best = (tnr, t)
    # Put the threshold midway between the probabilities it separates, not on the lowest
    # answerable one: re-ingesting moves a question's confidence by a little, and a threshold
    # fitted exactly to it would then refuse it (same decisions on the fitting samples).
    below = [p for p in probs if p < best[1]]
    model.threshold = (best[1] + max(below)) / 2 if below and best[1] > 0 else best[1]
    return model
