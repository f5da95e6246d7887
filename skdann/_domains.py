"""Marking target rows: scikit-learn's ``y == -1`` convention for unlabeled rows."""

import numpy as np
import scipy.sparse as sp

__all__ = ["TARGET_LABEL", "stack_domains", "target_mask"]

TARGET_LABEL = -1
"""Label that marks an unlabeled target row in ``y`` (as in ``SelfTrainingClassifier``)."""


def target_mask(y):
    """Return a boolean mask of the target rows of ``y``.

    Parameters
    ----------
    y : array-like of shape (n_samples,)
        Labels where ``-1`` marks a target row. With string labels the
        string ``"-1"`` marks a target row (what :func:`stack_domains`
        returns; NumPy also turns ``-1`` into ``"-1"`` when it builds a
        string array). In an object array either ``-1`` or ``"-1"`` marks a
        target row.

    Returns
    -------
    ndarray of bool of shape (n_samples,)
        True on target rows.
    """
    y = np.asarray(y)
    if y.dtype.kind in "biuf":
        return y == TARGET_LABEL
    if y.dtype.kind in "US":
        return y == str(TARGET_LABEL)
    return np.fromiter((_is_target_value(v) for v in y.ravel()), dtype=bool, count=y.size).reshape(
        y.shape
    )


def _is_target_value(value):
    if isinstance(value, str):
        return value == str(TARGET_LABEL)
    try:
        return bool(value == TARGET_LABEL)
    except (TypeError, ValueError):
        return False


def stack_domains(X_source, y_source, X_target):
    """Stack source and target rows into one ``(X, y)`` with ``y == -1`` on target rows.

    The result can go through a whole :class:`~sklearn.pipeline.Pipeline`, so
    that preprocessing steps see (and are fitted on) the rows of both
    domains, and through :class:`~sklearn.model_selection.GridSearchCV`.

    Parameters
    ----------
    X_source : {array-like, sparse matrix, DataFrame} of shape (n_source, n_features)
        Labeled source rows.
    y_source : array-like of shape (n_source,)
        Source labels. They must not contain ``-1``, which marks target rows.
    X_target : {array-like, sparse matrix, DataFrame} of shape (n_target, n_features)
        Unlabeled target rows, of the same kind as ``X_source``.

    Returns
    -------
    X : ndarray, sparse matrix or DataFrame of shape (n_source + n_target, n_features)
        Source rows first, then target rows. DataFrames are concatenated
        with a fresh index.
    y : ndarray of shape (n_source + n_target,)
        ``y_source`` followed by ``-1`` for each target row. Numeric labels
        keep their dtype; string labels give a string array with ``"-1"`` on
        target rows; other labels give an object array holding ``-1``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann import stack_domains
    >>> X, y = stack_domains(np.zeros((2, 3)), ["cat", "dog"], np.ones((1, 3)))
    >>> X.shape, y.tolist()
    ((3, 3), ['cat', 'dog', '-1'])
    """
    y_source = np.asarray(y_source)
    if y_source.ndim != 1:
        raise ValueError(f"y_source must be 1-D, got an array of shape {y_source.shape}.")
    if len(y_source) != _n_rows(X_source):
        raise ValueError(
            f"X_source has {_n_rows(X_source)} rows but y_source has {len(y_source)} labels."
        )
    if target_mask(y_source).any():
        raise ValueError(
            "y_source contains the label -1, which marks target rows; "
            "encode the source labels differently (for example with LabelEncoder)."
        )
    check_same_n_features(_n_columns(X_source), _n_columns(X_target))
    n_target = _n_rows(X_target)
    if y_source.dtype.kind in "biuf":
        y_target = np.full(n_target, TARGET_LABEL, dtype=np.result_type(y_source, np.int8))
        y = np.concatenate([y_source, y_target])
    elif all(isinstance(label, str) for label in y_source):
        # A plain string array (not strings mixed with the integer -1) keeps
        # the labels sortable, which stratified splitters need.
        y = np.concatenate([y_source.astype(str), np.full(n_target, str(TARGET_LABEL))])
    else:
        y = np.empty(len(y_source) + n_target, dtype=object)
        y[: len(y_source)] = y_source
        y[len(y_source) :] = TARGET_LABEL
    return _stack_rows(X_source, X_target), y


def check_same_n_features(n_source_features, n_target_features):
    """Raise a ``ValueError`` when the two domains have different feature counts."""
    if n_source_features != n_target_features:
        raise ValueError(
            f"X_target has {n_target_features} features, but X_source has "
            f"{n_source_features} features; both domains need the same features."
        )


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _n_columns(X):
    shape = X.shape if hasattr(X, "shape") else np.shape(X)
    return shape[1] if len(shape) > 1 else 1


def _stack_rows(X_source, X_target):
    if hasattr(X_source, "iloc") and hasattr(X_target, "iloc"):
        import pandas as pd

        return pd.concat([X_source, X_target], ignore_index=True)
    if sp.issparse(X_source) or sp.issparse(X_target):
        return sp.vstack([sp.csr_matrix(X_source), sp.csr_matrix(X_target)], format="csr")
    return np.concatenate([np.asarray(X_source), np.asarray(X_target)])
