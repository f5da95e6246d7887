"""Estimates of the target's class proportions from a classifier's probabilities.

The estimators :func:`skdann.label_shift.estimate_target_proportions` offers
(``"mean"``, ``"em"``, ``"bbse"``) and the total variation distance between
two class distributions; :mod:`skdann.label_shift` is their public home.
"""

import numpy as np

__all__ = ["estimate_target_proportions", "total_variation"]


def total_variation(p, q):
    """Total variation distance ``0.5 * sum |p - q|`` between two distributions."""
    p, q = np.asarray(p, dtype=float), np.asarray(q, dtype=float)
    if p.ndim != 1 or p.shape != q.shape:
        raise ValueError(
            f"total_variation compares two distributions over the same classes (1-D, same "
            f"length); got shapes {p.shape} and {q.shape}."
        )
    return float(0.5 * np.abs(p - q).sum())


def estimate_target_proportions(
    source_proba, source_labels, target_proba, method="em", max_iter=100, tol=1e-6
):
    """Estimate the target domain's class proportions from a classifier's outputs.

    Parameters
    ----------
    source_proba : array-like of shape (n_source, n_classes)
        Predicted class probabilities on labeled source rows (ideally rows
        the classifier was not fitted on).
    source_labels : array-like of shape (n_source,)
        Their classes, as indices ``0 .. n_classes - 1``.
    target_proba : array-like of shape (n_target, n_classes)
        Predicted class probabilities on target rows.
    method : {"em", "bbse"}, default="em"
        Maximum likelihood by EM (Saerens et al., 2002), or black-box shift
        estimation with soft predictions (Lipton et al., 2018).
    max_iter : int, default=100
        EM iterations at most.
    tol : float, default=1e-6
        EM stops when no proportion moves by more than ``tol``.

    Returns
    -------
    ndarray of shape (n_classes,)
        Estimated target proportions: non-negative, summing to 1.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann.label_shift import estimate_target_proportions
    >>> source_proba = np.array([[0.9, 0.1], [0.2, 0.8], [0.8, 0.2], [0.1, 0.9]])
    >>> target_proba = np.array([[0.9, 0.1], [0.8, 0.2], [0.7, 0.3], [0.2, 0.8]])
    >>> estimate_target_proportions(source_proba, [0, 1, 0, 1], target_proba).round(2)
    array([0.91, 0.09])
    """
    if method not in ("em", "bbse"):
        raise ValueError(f'method must be "em" or "bbse", got {method!r}.')
    source_proba = _check_proba(source_proba, "source_proba")
    target_proba = _check_proba(target_proba, "target_proba")
    n_classes = source_proba.shape[1]
    labels = _check_labels(source_labels, n_classes)
    if target_proba.shape[1] != n_classes:
        raise ValueError(
            f"source_proba has {n_classes} classes and target_proba "
            f"{target_proba.shape[1]}; they must come from the same classifier."
        )
    if len(labels) != len(source_proba):
        raise ValueError(
            f"source_labels has {len(labels)} rows and source_proba {len(source_proba)}."
        )
    source_prior = np.bincount(labels, minlength=n_classes) / len(labels)
    if method == "em":
        return _em(source_prior, target_proba, max_iter, tol)
    return _bbse(source_prior, source_proba, labels, target_proba)


def _check_proba(proba, name):
    """Probabilities as a 2-D float array with rows, finite and non-negative."""
    try:
        proba = np.asarray(proba, dtype=float)
    except (TypeError, ValueError) as exc:
        raise ValueError(f"{name} must hold numbers (class probabilities).") from exc
    if proba.ndim != 2:
        raise ValueError(
            f"{name} must be 2-D, one row of class probabilities per row (n_rows, "
            f"n_classes), as predict_proba returns; got shape {proba.shape}."
        )
    if len(proba) == 0:
        raise ValueError(f"{name} has no rows: the estimate needs source and target rows.")
    if not np.isfinite(proba).all():
        raise ValueError(
            f"{name} contains NaN or infinite values; check the classifier that produced it."
        )
    if (proba < 0).any():
        raise ValueError(f"{name} holds negative values; it must hold class probabilities.")
    return proba


def _check_labels(labels, n_classes):
    """Source labels as class indices ``0 .. n_classes - 1``."""
    labels = np.asarray(labels)
    hint = "encode them first, e.g. with LabelEncoder (the order of the probabilities' columns)"
    if labels.ndim != 1:
        raise ValueError(f"source_labels must be 1-D; got shape {labels.shape}.")
    if labels.dtype.kind == "f" and np.all(np.isfinite(labels) & (labels == np.round(labels))):
        labels = labels.astype(np.int64)
    if labels.dtype.kind not in "iub":
        raise ValueError(
            f"source_labels must be class indices 0 .. {n_classes - 1}, got dtype {labels.dtype}; "
            f"{hint}."
        )
    labels = labels.astype(np.int64)
    outside = labels[(labels < 0) | (labels >= n_classes)]
    if len(outside):
        raise ValueError(
            f"source_labels must be class indices 0 .. {n_classes - 1} (one per column of the "
            f"probabilities); got {outside[0]}; {hint}."
        )
    return labels


def _em(source_prior, target_proba, max_iter, tol):
    prior = source_prior.copy()
    known = source_prior > 0
    for _ in range(max_iter):
        adjusted = target_proba.copy()
        adjusted[:, known] *= prior[known] / source_prior[known]
        adjusted[:, ~known] = 0.0
        adjusted /= np.clip(adjusted.sum(axis=1, keepdims=True), 1e-12, None)
        new = adjusted.mean(axis=0)
        if np.max(np.abs(new - prior)) < tol:
            return new
        prior = new
    return prior


def _bbse(source_prior, source_proba, labels, target_proba):
    n_classes = len(source_prior)
    # C[i, j] = P(prediction i, label j) on the source; q[i] = P(prediction i) on the target.
    joint = np.zeros((n_classes, n_classes))
    np.add.at(joint.T, labels, source_proba)
    joint /= len(labels)
    q = target_proba.mean(axis=0)
    try:
        ratio, *_ = np.linalg.lstsq(joint, q, rcond=None)
    except np.linalg.LinAlgError:  # non-finite inputs: nothing to estimate from
        return source_prior.copy()
    proportions = np.clip(ratio, 0.0, None) * source_prior
    total = proportions.sum()
    return proportions / total if total > 0 else source_prior.copy()
