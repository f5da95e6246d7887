"""The rows a fit trains on, whichever form they came in.

``fit(X, y)`` (stacked, target rows marked in ``y``, optionally
``sample_domain``) and ``fit(X, y, X_target, y_target=...)`` both become one
matrix of all rows with a labeled mask, each row's domain and the labeled
rows' targets: the one place that decides which rows are target rows.
"""

from typing import Any, NamedTuple

import numpy as np
from sklearn.utils.validation import check_array

from ._domains import (
    check_same_columns,
    check_same_n_features,
    check_sample_domain,
    stack_rows,
)


class FitRows(NamedTuple):
    """All training rows: ``X`` holds the source rows' and then the target rows' features."""

    X: Any
    y_labeled: np.ndarray  # targets of the labeled rows, in row order
    labeled: np.ndarray  # bool per row
    domain: np.ndarray  # int per row: source domains first, then target domains
    n_source_domains: int

    @property
    def is_target(self):
        return self.domain >= self.n_source_domains

    @property
    def n_domains(self):
        return int(self.domain.max()) + 1


def fit_rows(estimator, X, y, X_target, y_target, sample_domain):
    """Validate the inputs of ``fit`` and return them as :class:`FitRows`."""
    if X_target is None:
        if y_target is not None:
            raise ValueError("y_target labels rows of X_target; it was given without X_target.")
        X, y = estimator._check_targets(X, y)
        marked = estimator._target_mask(y)
        if sample_domain is None:
            domain, n_sources = marked.astype(np.int64), 1
        else:
            domain, n_sources = check_sample_domain(sample_domain, marked)
        return FitRows(X, y[~marked], ~marked, domain, n_sources)
    check_same_columns(X, X_target)
    if sample_domain is not None:
        raise ValueError(
            "sample_domain applies to the stacked form only; with X_target, "
            "stack the domains (stack_domains) and give one id per row."
        )
    X, y = estimator._check_targets(X, y)
    if estimator._target_mask(y).any():
        raise ValueError(
            f"y contains the label {estimator._marker_name()}, which marks target rows, "
            "and X_target was given too: with X_target, y must hold source labels only "
            "(labels of target rows go in y_target)."
        )
    X_target = check_array(X_target, accept_sparse="csr", dtype=np.float32, input_name="X_target")
    check_same_n_features(X.shape[1], X_target.shape[1])
    n_source, n_target = X.shape[0], X_target.shape[0]
    target_labeled = np.zeros(n_target, dtype=bool)
    y_labeled = y
    if y_target is not None:
        y_target = np.asarray(y_target)
        if len(y_target) != n_target:
            raise ValueError(
                f"y_target must hold one value per row of X_target (the label, or "
                f"{estimator._marker_name()} on unlabeled rows): got {len(y_target)} for "
                f"{n_target} rows."
            )
        target_labeled = ~estimator._target_mask(y_target)
        if target_labeled.any():
            given = y_target[target_labeled]
            if y.ndim == 1 and given.ndim == 1:
                y_labeled = np.concatenate([y, given.astype(y.dtype, copy=False)])
            else:
                y_labeled = np.concatenate([y, given.reshape(len(given), *y.shape[1:])])
    domain = np.r_[np.zeros(n_source, np.int64), np.ones(n_target, np.int64)]
    labeled = np.r_[np.ones(n_source, bool), target_labeled]
    return FitRows(stack_rows(X, X_target), y_labeled, labeled, domain, 1)
