"""Distances between the domains: the proxy A-distance."""

import numpy as np
from sklearn.linear_model import LogisticRegression
from sklearn.metrics import balanced_accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.pipeline import Pipeline
from sklearn.preprocessing import StandardScaler

from ._fold import dense


def proxy_a_distance(X_source, X_target, random_state=0):
    """Proxy A-distance between two samples (Ben-David et al.; JMLR DANN, section 5.1.5).

    A linear classifier (standardised logistic regression) learns to tell
    the domains apart on half of the rows of each; with ``eps`` its error on
    the other half, ``PAD = 2 (1 - 2 eps)``. Near 0 for indistinguishable
    samples, near 2 for separable ones. ``eps`` is the *balanced* error (the
    mean of the two domains' error rates) and the classifier weights the
    domains equally, so samples of different sizes do not inflate the
    distance: always guessing the larger domain scores 0, not the share of
    its rows. Compare raw inputs with ``DANNClassifier.transform`` features.

    Parameters
    ----------
    X_source, X_target : array-like of shape (n_source, n_features), (n_target, n_features)
        The two samples, dense or sparse (sparse ones are densified).
    random_state : int, default=0
        Seed of the half split.

    Returns
    -------
    float
        PAD in ``[0, 2]`` (a balanced error above 0.5 counts as 0.5).
    """
    X_source, X_target = dense(X_source), dense(X_target)
    Z = np.vstack([X_source, X_target]).astype(float)
    d = np.r_[np.zeros(len(X_source)), np.ones(len(X_target))]
    Z_fit, Z_test, d_fit, d_test = train_test_split(
        Z, d, test_size=0.5, random_state=random_state, stratify=d
    )
    model = Pipeline(
        [
            ("scale", StandardScaler()),
            ("clf", LogisticRegression(max_iter=2000, class_weight="balanced")),
        ]
    )
    error = 1.0 - balanced_accuracy_score(d_test, model.fit(Z_fit, d_fit).predict(Z_test))
    return float(2.0 * (1.0 - 2.0 * min(error, 0.5)))
