"""The rows a fit trains on, whichever form they came in.

``fit(X, y)`` (stacked, target rows marked in ``y``, optionally
``sample_domain``) and ``fit(X, y, X_target, y_target=...)`` both become one
matrix of all rows with a labeled mask, each row's domain and the labeled
rows' targets: the one place that decides which rows are target rows.
:func:`plan_fit` adds what else a fit decides before training (the objective,
the weights, the seed), so a plain fit and a batched fit start from the same.
"""

import warnings
from typing import Any, NamedTuple

import numpy as np
from sklearn.base import is_regressor
from sklearn.utils import check_random_state
from sklearn.utils.validation import check_array

from ._batches import domain_data
from ._device import check_fits_on_device, resolve_device
from ._domains import (
    check_same_columns,
    check_same_n_features,
    check_sample_domain,
    split_sample_weight,
    stack_rows,
)
from ._warnings import user_stacklevel
from .objectives import resolve_objective


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


class FitPlan(NamedTuple):
    """Everything a fit has decided before it trains (see :func:`plan_fit`)."""

    rows: FitRows
    y_encoded: np.ndarray  # encoded targets of the labeled rows
    source_weight: Any
    target_weight: Any
    device: str
    seed: int  # of the initialisation, the batches, the dropout masks and the holdout
    stratify: Any  # labels of the source rows for the early-stopping split

    @property
    def n_features(self):
        return self.rows.X.shape[1]

    def domain_data(self):
        """The training rows on the device, as ``DomainData``."""
        return domain_data(
            self.rows, self.y_encoded, self.source_weight, self.target_weight, self.device
        )


def plan_fit(estimator, X, y, X_target, y_target, sample_domain, sample_weight):
    """Validate a fit's inputs, set the fitted attributes known before training, plan it.

    Sets what ``fit`` learns from the data alone (``n_features_in_``, the
    classes or the target scaling, ``objective_``, ``n_domains_``,
    ``n_source_domains_``) and returns the :class:`FitPlan`.
    """
    est = estimator
    device = resolve_device(est.device)  # before any data work
    name = type(est).__name__
    objective = resolve_objective(est.objective, name, is_regressor(est))
    rows = fit_rows(est, X, y, X_target, y_target, sample_domain)
    is_target = rows.is_target
    source = ~is_target
    # sample_weight covers the rows of X: all of them, or the source rows with X_target.
    weighted_rows = is_target if X_target is None else is_target[~is_target]
    source_weight, target_weight = split_sample_weight(sample_weight, weighted_rows, X_target)
    if not (rows.labeled & source).any():
        raise ValueError(
            f"y has no labeled source rows: every row is marked {est._marker_name()} "
            f"(target). {name} needs labeled source rows to learn from."
        )
    # Rows the marker in y made target rows (the hint of a one-class error).
    n_marked = int((~rows.labeled).sum()) if X_target is None else 0
    y_encoded = est._encode_targets(rows.y_labeled, n_marked=n_marked)
    source_labels = y_encoded[source[rows.labeled]]
    source_weight = est._class_weighted(source_weight, source_labels)
    if not is_target.any():
        warnings.warn(
            f"y contains no target rows (y == {est._marker_name()}) and no X_target "
            "was given; training source-only, without the adversarial loss.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if est._reweights_by_class() and not objective.reweights_domains:
        raise ValueError(
            'label_shift="iwdan" weights a domain loss by class; objective '
            f"{type(objective).__name__} has none. Use an adversarial objective."
        )
    seed = check_random_state(est.random_state).randint(np.iinfo(np.int32).max)
    check_fits_on_device(device, rows.X, is_target)
    est.n_domains_ = rows.n_domains
    est.n_source_domains_ = rows.n_source_domains
    est.objective_ = objective
    stratify = est._stratify_labels(source_labels, rows.domain[source])
    return FitPlan(rows, y_encoded, source_weight, target_weight, device, seed, stratify)
