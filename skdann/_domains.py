"""Which row belongs to which domain.

Target rows are marked in ``y``: ``-1`` for classifiers (scikit-learn's
convention for unlabeled rows), NaN for regressors. Several domains are
told apart by ``sample_domain`` (skada's convention: positive ids for
source domains, negative ids for target domains).
"""

import warnings

import numpy as np
import scipy.sparse as sp

from ._warnings import user_stacklevel

__all__ = ["TARGET_LABEL", "stack_domains", "target_mask"]

TARGET_LABEL = -1
"""Label that marks an unlabeled target row in ``y`` (as in ``SelfTrainingClassifier``)."""


def target_mask(y, *, regression=False):
    """Return a boolean mask of the target rows of ``y``.

    Parameters
    ----------
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Labels where ``-1`` marks a target row. With string labels the
        string ``"-1"`` marks a target row (what :func:`stack_domains`
        returns; NumPy also turns ``-1`` into ``"-1"`` when it builds a
        string array). In an object array either ``-1`` or ``"-1"`` marks a
        target row.
    regression : bool, default=False
        Read ``y`` as regression targets: NaN marks a target row (a row of
        NaN with several outputs) and ``-1`` is an ordinary value.

    Returns
    -------
    ndarray of bool of shape (n_samples,)
        True on target rows.
    """
    y = np.asarray(y)
    if regression:
        if y.dtype.kind not in "biuf":
            y = y.astype(float)
        missing = np.isnan(y) if y.dtype.kind == "f" else np.zeros(y.shape, dtype=bool)
        return missing.all(axis=1) if missing.ndim == 2 else missing
    if y.dtype.kind in "biuf":
        return y == TARGET_LABEL
    if y.dtype.kind in "US":
        return y == str(TARGET_LABEL)
    return np.fromiter((_is_target_value(v) for v in y.ravel()), dtype=bool, count=y.size).reshape(
        y.shape
    )


def select_labeled(X, mask):
    """Rows of ``X`` where ``mask`` is true, for arrays, sparse matrices, frames and lists."""
    if hasattr(X, "iloc"):
        return X.iloc[mask]
    if hasattr(X, "shape") and hasattr(X, "__getitem__"):
        return X[mask]
    return [row for row, keep in zip(X, mask, strict=True) if keep]


def first_text_row(values):
    """Position of the first value of a pandas Series that is text, not a number, or None."""
    import pandas as pd

    bad = values.notna() & pd.to_numeric(values, errors="coerce").isna()
    return int(np.flatnonzero(bad.to_numpy())[0]) if bad.any() else None


def check_score_weight(sample_weight, n_rows):
    """``sample_weight`` of ``score`` as an array of one weight per row, or None."""
    if sample_weight is None:
        return None
    weights = np.asarray(sample_weight)
    if weights.shape != (n_rows,):
        raise ValueError(
            f"sample_weight must hold one weight per row of X: got shape {weights.shape} "
            f"for {n_rows} rows."
        )
    return weights


def _is_target_value(value):
    if isinstance(value, str):
        return value == str(TARGET_LABEL)
    try:
        return bool(value == TARGET_LABEL)
    except (TypeError, ValueError):
        return False


def stack_domains(X_source, y_source, X_target, *, regression=False):
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
    regression : bool, default=False
        Mark target rows with NaN in a float ``y`` (what
        :class:`~skdann.DANNRegressor` reads) instead of ``-1``.

    Returns
    -------
    X : ndarray, sparse matrix or DataFrame of shape (n_source + n_target, n_features)
        Source rows first, then target rows. DataFrames are concatenated
        with a fresh index.
    y : ndarray of shape (n_source + n_target,)
        ``y_source`` followed by ``-1`` for each target row. Signed integer
        and float labels keep their dtype; string labels give a string array
        with ``"-1"`` on target rows; other labels give an object array
        holding ``-1``. With ``regression=True``: float64 targets (2-D for
        several outputs) with NaN on the target rows.

    Notes
    -----
    ``-1`` must fit in the label dtype, so boolean labels become ``int8``
    (``False``/``True`` become 0/1) and unsigned labels the next wider
    signed integer type. A classifier fitted on the stacked form then has
    ``classes_`` ``[0, 1]`` where the 3-argument form keeps ``[False,
    True]``; keep the original labels with the 3-argument form, or encode
    them yourself (``LabelEncoder``) and map predictions back.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann import stack_domains
    >>> X, y = stack_domains(np.zeros((2, 3)), ["cat", "dog"], np.ones((1, 3)))
    >>> X.shape, y.tolist()
    ((3, 3), ['cat', 'dog', '-1'])
    """
    y_source = np.asarray(y_source)
    if y_source.ndim != 1 and not (regression and y_source.ndim == 2):
        raise ValueError(f"y_source must be 1-D, got an array of shape {y_source.shape}.")
    if len(y_source) != _n_rows(X_source):
        raise ValueError(
            f"X_source has {_n_rows(X_source)} rows but y_source has {len(y_source)} labels."
        )
    check_same_columns(X_source, X_target, numeric=False)
    check_same_n_features(_n_columns(X_source), _n_columns(X_target))
    n_target = _n_rows(X_target)
    if regression:
        y_source = y_source.astype(np.float64)
        if np.isnan(y_source).any():
            raise ValueError(
                "y_source contains NaN, which marks target rows for regression; "
                "drop or impute those source rows."
            )
        y_target = np.full((n_target, *y_source.shape[1:]), np.nan)
        return stack_rows(X_source, X_target), np.concatenate([y_source, y_target])
    if target_mask(y_source).any():
        raise ValueError(
            "y_source contains the label -1, which marks target rows; "
            "encode the source labels differently (for example with LabelEncoder)."
        )
    if y_source.dtype.kind in "biuf":
        dtype = _signed_label_dtype(y_source)
        y_target = np.full(n_target, TARGET_LABEL, dtype=dtype)
        y = np.concatenate([y_source.astype(dtype), y_target])
    elif all(isinstance(label, str) for label in y_source):
        # A plain string array (not strings mixed with the integer -1) keeps
        # the labels sortable, which stratified splitters need.
        y = np.concatenate([y_source.astype(str), np.full(n_target, str(TARGET_LABEL))])
    else:
        y = np.empty(len(y_source) + n_target, dtype=object)
        y[: len(y_source)] = y_source
        y[len(y_source) :] = TARGET_LABEL
    return stack_rows(X_source, X_target), y


def _signed_label_dtype(y_source):
    """The dtype of ``y_source`` if it can hold -1, else the next signed integer type."""
    if y_source.dtype.kind == "b":
        return np.dtype(np.int8)
    if y_source.dtype.kind == "u":
        if y_source.dtype.itemsize < 8:
            return np.dtype(f"int{16 * y_source.dtype.itemsize}")
        if len(y_source) and y_source.max() > np.iinfo(np.int64).max:
            raise ValueError(
                "y_source holds uint64 labels above 2**63 - 1, which cannot be stacked with "
                "the -1 target marker; encode them first (for example with LabelEncoder)."
            )
        return np.dtype(np.int64)
    return y_source.dtype


def check_same_n_features(n_source_features, n_target_features):
    """Raise a ``ValueError`` when the two domains have different feature counts."""
    if n_source_features != n_target_features:
        raise ValueError(
            f"X_target has {n_target_features} features, but X_source has "
            f"{n_source_features} features; both domains need the same features."
        )


def check_numeric_columns(X, input_name):
    """Raise a ``ValueError`` naming the first column of a DataFrame that holds text."""
    dtypes = getattr(X, "dtypes", None)
    if dtypes is None or not hasattr(dtypes, "items"):
        return
    import pandas as pd

    for column, dtype in dtypes.items():
        if pd.api.types.is_numeric_dtype(dtype) or pd.api.types.is_bool_dtype(dtype):
            continue
        values = X[column]
        row = first_text_row(values)
        if row is not None:
            raise ValueError(
                f"{input_name} column {column!r} holds text ({values.iloc[row]!r} in row {row}); "
                "DANN estimators take numbers: encode it first, e.g. with OneHotEncoder in a "
                "ColumnTransformer before the estimator in a Pipeline."
            )


def check_same_columns(X, X_target, *, numeric=True):
    """Check ``X_target``'s columns against ``X``'s.

    Raises a ``ValueError`` naming the columns when two DataFrames' columns
    differ, and warns when only one of the two is a DataFrame (its columns
    are then matched by position). With ``numeric=True`` (what the
    estimators' ``fit`` needs) a text column of ``X_target`` is refused too;
    :func:`stack_domains` passes ``numeric=False``, as its rows may go
    through a pipeline's encoders.
    """
    columns, target_columns = getattr(X, "columns", None), getattr(X_target, "columns", None)
    if numeric:
        check_numeric_columns(X_target, "X_target")
    if (columns is None) != (target_columns is None) and not sp.issparse(
        X if columns is None else X_target
    ):
        frame, other = ("X", "X_target") if columns is not None else ("X_target", "X")
        warnings.warn(
            f"{frame} is a DataFrame but {other} is not: {other}'s columns are matched to "
            f"{frame}'s by position, not by name. Pass both as DataFrames to have the "
            "names checked.",
            UserWarning,
            stacklevel=user_stacklevel(),
        )
    if columns is None or target_columns is None or list(columns) == list(target_columns):
        return
    only_source = [c for c in columns if c not in set(target_columns)]
    only_target = [c for c in target_columns if c not in set(columns)]
    if only_source or only_target:
        detail = f"only in the source: {only_source}; only in the target: {only_target}"
    else:
        detail = "same names in another order"
    raise ValueError(f"X_target's columns differ from X's ({detail}).")


def check_sample_domain(sample_domain, is_marked):
    """Validate ``sample_domain`` against the rows' target markers; return each row's domain.

    Positive ids are source domains and negative ids target domains, as in
    skada. A row of a target domain may carry a label (a labeled target
    row); a row of a source domain must. Returns the domain index of every
    row (source domains ``0 .. s - 1`` in increasing id, then target domains
    in increasing absolute id) and the number of source domains.
    """
    n_rows = len(is_marked)
    sample_domain = np.asarray(sample_domain)
    if sample_domain.ndim != 1 or len(sample_domain) != n_rows:
        raise ValueError(
            f"sample_domain must hold one domain id per row of X: got shape "
            f"{sample_domain.shape} for {n_rows} rows."
        )
    if sample_domain.dtype.kind not in "iu":
        raise ValueError(
            "sample_domain must hold integer domain ids (positive for source domains, "
            f"negative for target domains); got dtype {sample_domain.dtype}."
        )
    if (sample_domain == 0).any():
        raise ValueError(
            "sample_domain must not contain 0: positive ids mark source domains, "
            "negative ids target domains."
        )
    marked = (sample_domain > 0) & is_marked
    if marked.any():
        raise ValueError(
            f"{int(marked.sum())} rows have a positive (source) sample_domain but a target "
            f"marker in y (first at row {int(np.flatnonzero(marked)[0])}); source rows need "
            "labels."
        )
    ids, counts = np.unique(sample_domain, return_counts=True)
    if (counts < 2).any():
        raise ValueError(
            f"Domain {int(ids[counts < 2][0])} of sample_domain has a single row; every "
            "domain needs at least two rows."
        )
    source_ids = ids[ids > 0]
    target_ids = ids[ids < 0][::-1]  # -1, -2, ...: increasing absolute value
    lookup = {int(d): k for k, d in enumerate([*source_ids, *target_ids])}
    codes = np.array([lookup[int(d)] for d in sample_domain], dtype=np.int64)
    return codes, len(source_ids)


def _n_rows(X):
    return X.shape[0] if hasattr(X, "shape") else len(X)


def _n_columns(X):
    shape = X.shape if hasattr(X, "shape") else np.shape(X)
    return shape[1] if len(shape) > 1 else 1


def stack_rows(X_source, X_target):
    """Source rows then target rows: a DataFrame, a CSR matrix if either is, or an array."""
    frames = [hasattr(X, "iloc") for X in (X_source, X_target)]
    if any(frames) and not sp.issparse(X_source) and not sp.issparse(X_target):
        import pandas as pd

        # One DataFrame and one array (warned by check_same_columns): keep the names.
        columns = (X_source if frames[0] else X_target).columns
        X_source, X_target = (
            X if is_frame else pd.DataFrame(np.asarray(X), columns=columns)
            for X, is_frame in zip((X_source, X_target), frames, strict=True)
        )
        return pd.concat([X_source, X_target], ignore_index=True)
    if sp.issparse(X_source) or sp.issparse(X_target):
        return sp.vstack([sp.csr_matrix(X_source), sp.csr_matrix(X_target)], format="csr")
    return np.concatenate([np.asarray(X_source), np.asarray(X_target)])


def split_sample_weight(sample_weight, is_target, X_target):
    """Validate ``sample_weight``; return the source rows' and target rows' weights."""
    if sample_weight is None:
        return None, None
    weights = np.asarray(sample_weight)
    if weights.ndim != 1 or len(weights) != len(is_target):
        raise ValueError(
            f"sample_weight must hold one weight per row of X: got shape {weights.shape} "
            f"for {len(is_target)} rows."
        )
    if weights.dtype.kind not in "biuf":
        raise ValueError(f"sample_weight must be numeric, got dtype {weights.dtype}.")
    weights = weights.astype(np.float64)
    if not np.isfinite(weights).all():
        raise ValueError("sample_weight contains NaN or infinite values.")
    if (weights < 0).any():
        raise ValueError(f"sample_weight must be non-negative; its minimum is {weights.min()}.")
    source, target = weights[~is_target], weights[is_target]
    if len(source) and not source.any():
        raise ValueError("sample_weight is zero on every source row: nothing to learn from.")
    if X_target is None and len(target) and not target.any():
        raise ValueError("sample_weight is zero on every target row: nothing to adapt to.")
    return source, target if len(target) else None
