"""What both displays share: the lazy matplotlib import and the reading of ``y``."""

import numpy as np
from sklearn.utils.multiclass import type_of_target

from .._domains import target_mask


def _pyplot(caller):
    """Import ``matplotlib.pyplot``, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib: pip install matplotlib (or pip install 'skdann[plot]')."
        ) from exc
    return plt


def _split_labels(y):
    """Return the target mask of ``y`` and its class labels (None when continuous)."""
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {y.shape}.")
    if y.ndim == 2 or (y.dtype.kind == "f" and np.isnan(y).any()):
        # Regression targets: NaN (in every output) marks a target row.
        missing = np.isnan(y.astype(float))
        return (missing.all(axis=1) if y.ndim == 2 else missing), None
    is_target = target_mask(y)
    labeled = y[~is_target]
    if len(labeled) and type_of_target(labeled) in ("binary", "multiclass"):
        return is_target, y
    return is_target, None


def _check_domains(sample_domain, n_samples):
    """Return ``sample_domain`` as an array: one non-zero int id per row."""
    domains = np.asarray(sample_domain)
    if domains.shape != (n_samples,) or domains.dtype.kind not in "iu":
        raise ValueError(
            f"sample_domain must be an int array of shape ({n_samples},), got "
            f"{domains.dtype} of shape {domains.shape}."
        )
    if (domains == 0).any():
        raise ValueError(
            "sample_domain ids must be non-zero: positive for source, negative for target."
        )
    return domains
