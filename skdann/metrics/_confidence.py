"""Validators read from the model's class probabilities on the target rows alone.

They need no density ratio and no extra training, so they are cheap, but
they never see a label: each rewards a shape of the target predictions
(confident, diverse, clustered) that a wrong model can also have.
"""

import numpy as np

from ._fold import require_probabilities, split_fold

# Target rows SND compares pairwise (its cost is quadratic in them).
SND_MAX_ROWS = 2000


def _target_probabilities(estimator, X, y, name):
    require_probabilities(estimator, name)
    _, _, X_target = split_fold(X, y, estimator)
    return np.clip(np.asarray(estimator.predict_proba(X_target), dtype=float), 1e-12, 1.0)


def _entropy(p, axis=-1):
    return -np.sum(p * np.log(p), axis=axis)


def prediction_entropy_scorer(estimator, X, y):
    """Negative mean entropy of the predicted class probabilities on target rows.

    Assumes that a well-adapted model is confident on the target domain.
    Fails when a model is confidently wrong (for example, after collapsing
    target rows onto one class): entropy never sees labels. Cost: one
    ``predict_proba`` on the target rows.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
        The model to score.
    X : array-like of shape (n_samples, n_features)
        Validation fold, source and target rows.
    y : array-like of shape (n_samples,)
        Labels, ``-1`` on target rows (only the mask is used).

    Returns
    -------
    float
        ``-mean(H(p(.|x)))`` over target rows, in nats; 0 is the best.
    """
    proba = _target_probabilities(estimator, X, y, "prediction_entropy_scorer")
    return float(-np.mean(_entropy(proba)))


def information_maximization_scorer(estimator, X, y):
    """Mutual information between target rows and predicted classes (InfoMax).

    ``H(mean p) - mean H(p)`` over the target rows: the entropy of the
    average prediction minus the average entropy of each prediction (Gomes
    et al., 2010; the objective of SHOT, Liang et al., 2020, used here as a
    validator). The second term rewards confident predictions, as
    :func:`prediction_entropy_scorer` does; the first rewards using every
    class, so a model that sends all target rows confidently to one class
    scores 0, the minimum, where prediction entropy would rate it best.
    Assumes the target classes are not too unbalanced: with strong label
    shift, the diversity term favours spreading rows over classes that
    are rare in the target. Cost: one ``predict_proba`` on the target rows.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
        The model to score.
    X : array-like of shape (n_samples, n_features)
        Validation fold, source and target rows.
    y : array-like of shape (n_samples,)
        Labels, ``-1`` on target rows (only the mask is used).

    Returns
    -------
    float
        In nats, between 0 and ``log(n_classes)``; higher is better.
    """
    proba = _target_probabilities(estimator, X, y, "information_maximization_scorer")
    return float(_entropy(proba.mean(axis=0)) - np.mean(_entropy(proba)))


def soft_neighborhood_density_scorer(estimator, X, y, *, temperature=0.05, random_state=0):
    """Soft neighbourhood density (SND; Saito et al., ICCV 2021).

    Each target row's probability vector is L2-normalised; its similarity
    to every other target row, divided by ``temperature``, goes through a
    softmax over those rows, and SND is the mean entropy of these
    neighbourhood distributions. It is high when target predictions form
    tight clusters, each with many close neighbours, which is what a model
    that has adapted to the target's cluster structure gives. Assumes
    target classes are clusters the model should respect. Fails on total
    collapse: when every row gets the same prediction, all neighbours are
    equally close and SND is at its maximum, ``log(n - 1)``; pair it with
    a diversity check such as :func:`information_maximization_scorer`.
    Cost: quadratic in the target rows, so at most ``SND_MAX_ROWS`` (2000)
    of them, drawn with ``random_state``, are compared.

    Parameters
    ----------
    estimator : fitted classifier with ``predict_proba``
        The model to score.
    X : array-like of shape (n_samples, n_features)
        Validation fold, source and target rows.
    y : array-like of shape (n_samples,)
        Labels, ``-1`` on target rows (only the mask is used).
    temperature : float, default=0.05
        Softmax temperature of the similarities (the paper's value).
    random_state : int, default=0
        Seed of the row subsample when there are more than 2000 target rows.

    Returns
    -------
    float
        Mean neighbourhood entropy in nats; higher is better.
    """
    proba = _target_probabilities(estimator, X, y, "soft_neighborhood_density_scorer")
    if len(proba) > SND_MAX_ROWS:
        keep = np.random.default_rng(random_state).choice(len(proba), SND_MAX_ROWS, replace=False)
        proba = proba[np.sort(keep)]
    if len(proba) < 2:
        raise ValueError("soft_neighborhood_density_scorer needs at least 2 target rows.")
    unit = proba / np.linalg.norm(proba, axis=1, keepdims=True)
    logits = unit @ unit.T / temperature
    np.fill_diagonal(logits, -np.inf)  # a row is not its own neighbour
    logits -= logits.max(axis=1, keepdims=True)
    neighbours = np.exp(logits)
    neighbours /= neighbours.sum(axis=1, keepdims=True)
    safe = np.where(neighbours > 0, neighbours, 1.0)
    return float(np.mean(-np.sum(neighbours * np.log(safe), axis=1)))
