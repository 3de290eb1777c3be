"""Evaluating a trained run on a labelled folder of photos: accuracy, per digit, confusion, mistakes.

The photos are read and predicted exactly as ``signs predict`` does
(``Predictor.predict_files``); their labels come from the folder, as
``signs data build`` reads them (``images.scan_photos``: one rule, and the
photos it cannot label are skipped and named, never guessed).
"""
from pathlib import Path

import numpy as np

from . import runs
from .errors import SignsError
from .images import scan_photos
from .plots import plot_confusion, plot_contact_sheet
from .predict import Predictor
from .settings import DEFAULTS, check


def evaluate_photos(run_dir, folder, batch_size=DEFAULTS["batch_size"], device="auto",
                    checkpoint="final"):
    """Predict every labelled photo in ``folder`` with the run in ``run_dir`` and score them.

    Photos that cannot be read are left out of every count and listed under
    "unreadable". The confusion matrix and the wrong photos are drawn into the
    run folder (``runs.evaluation_files``); draw them inline with
    ``plots.plot_confusion(result["confusion"])`` and
    ``plots.plot_contact_sheet(result["wrong"])``.

    Args:
        folder: photos in class subfolders ``0/`` ... ``5/`` or named ``<digit>_*.jpg``.
        batch_size: photos per session run.
        device: "cpu", "gpu" or "auto", as for training.
        checkpoint: "final" (a finished run) or "last" (its newest checkpoint), as ``Predictor``.
    Returns:
        dict: n (photos scored), correct, accuracy, per_digit (accuracy of each
        digit, None for a digit without photos), confusion (C x C counts, rows =
        true digit, columns = predicted), wrong [{image, true, predicted,
        confidence}] (most confident first), unreadable [{image, error}],
        skipped [paths of the photos without a label, not scored],
        confusion_png, wrong_png (paths of the figures).
    """
    check("batch_size", batch_size)
    items, skipped = scan_photos(folder)
    predictor = Predictor(run_dir, device, checkpoint)
    try:
        results = predictor.predict_files([path for path, _ in items], batch_size)
    finally:
        predictor.close()
    scored = [(r, label) for r, (_, label) in zip(results, items) if "error" not in r]
    unreadable = [r for r in results if "error" in r]
    if not scored:
        raise SignsError(f"{folder}: none of its {len(items)} labelled images is readable "
                         f"(first: {unreadable[0]['error']})")
    C = len(scored[0][0]["probabilities"])
    outside = sorted({label for _, label in items if label >= C})
    if outside:
        raise SignsError(f"{folder}: photos labelled {', '.join(map(str, outside))}; expected "
                         f"labels 0..{C - 1}, the {C} classes of the run {run_dir}")
    confusion = np.zeros((C, C), dtype=int)
    wrong = []
    for r, label in scored:
        confusion[label, r["digit"]] += 1
        if r["digit"] != label:
            wrong.append({"image": r["image"], "true": label, "predicted": r["digit"],
                          "confidence": r["probabilities"][r["digit"]]})
    wrong.sort(key=lambda w: -w["confidence"])  # the surest mistakes first (stable: then by path)
    n, correct, per_row = len(scored), int(np.trace(confusion)), confusion.sum(axis=1)
    confusion_png, wrong_png = runs.evaluation_files(run_dir, folder)
    plot_confusion(confusion, f"{Path(folder).resolve().name}: {correct} of {n} right",
                   path=confusion_png, show=False)
    plot_contact_sheet(wrong, path=wrong_png, show=False)
    return {"n": n, "correct": correct, "accuracy": correct / n,
            "per_digit": [int(confusion[d, d]) / int(per_row[d]) if per_row[d] else None
                          for d in range(C)],
            "confusion": confusion.tolist(), "wrong": wrong, "unreadable": unreadable,
            "skipped": [str(path) for path in skipped],
            "confusion_png": str(confusion_png), "wrong_png": str(wrong_png)}


def format_confusion(confusion):
    """The confusion matrix as a plain-text table, each row ended by that digit's accuracy.

    >>> print(format_confusion([[2, 0], [1, 3]]))
    true\\pred     0     1  accuracy
            0     2     0     1.000
            1     1     3     0.750
    """
    confusion = np.asarray(confusion)
    w = max(6, len(str(confusion.max())) + 2)
    lines = ["true\\pred" + "".join(f"{d:>{w}}" for d in range(len(confusion))) + "  accuracy"]
    for d, row in enumerate(confusion):
        accuracy = f"{row[d] / row.sum():.3f}" if row.sum() else "-"
        lines.append(f"{d:>9}" + "".join(f"{c:>{w}}" for c in row) + f"{accuracy:>10}")
    return "\n".join(lines)
