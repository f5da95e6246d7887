"""Build a training ``DomainData`` from per-domain parts, as the estimators do."""

import numpy as np
import torch

from skdann._batches import DomainData


def domain_data(
    X_source,
    y_source,
    X_target=None,
    source_domain=None,
    target_domain=None,
    source_weight=None,
    target_weight=None,
):
    n_source = len(X_source)
    n_target = 0 if X_target is None else len(X_target)
    X = X_source if X_target is None else torch.cat([X_source, X_target])
    source_domain = np.zeros(n_source, np.int64) if source_domain is None else source_domain
    n_sources = int(source_domain.max()) + 1
    target_domain = np.zeros(n_target, np.int64) if target_domain is None else target_domain
    domain = np.r_[source_domain, n_sources + np.asarray(target_domain, np.int64)]
    y = torch.cat([y_source, torch.zeros(n_target, dtype=y_source.dtype)])
    labeled = np.r_[np.ones(n_source, bool), np.zeros(n_target, bool)]
    weight = None
    if source_weight is not None or target_weight is not None:
        ones = torch.ones
        weight = torch.cat(
            [
                ones(n_source) if source_weight is None else source_weight,
                ones(n_target) if target_weight is None else target_weight,
            ]
        )
    return DomainData(
        X,
        y,
        labeled if n_target else None,
        domain,
        n_sources,
        weight,
        weighted_labels=source_weight is not None,
    )
