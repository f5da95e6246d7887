"""Label-free scores for choosing DANN hyperparameters, and the proxy A-distance.

In unsupervised domain adaptation there are no target labels to validate
with. The scorers below have scikit-learn's ``scorer(estimator, X, y)``
signature and work on a validation fold of stacked data (see
:func:`~skdann.stack_domains`): source rows carry labels, target rows carry
``y == -1`` (NaN for a regressor). Higher is better for all of them, as
``GridSearchCV`` expects. ``estimator`` is a fitted DANN estimator or a
pipeline ending in one. They come in families, one module each:

- read from the target predictions alone (``_confidence``): prediction
  entropy, information maximisation, soft neighbourhood density;
- importance-weighted source risk (``_importance``): IWCV on the inputs,
  deep embedded validation on the learned features;
- reverse validation (``_reverse``), which trains a second model;
- several at once (``_aggregate``): the best mean rank, as a refit rule.

:func:`recommended_scorer` is the one the benchmarks back, chosen for each
kind of estimator by a leave-one-dataset-out rule (see the "Choosing lambda
without target labels" page and ``benchmarks/selection_lodo.py``).
"""

from ._aggregate import mean_rank_refit, mean_ranks
from ._confidence import (
    information_maximization_scorer,
    prediction_entropy_scorer,
    soft_neighborhood_density_scorer,
)
from ._distance import proxy_a_distance
from ._fold import is_regression
from ._importance import deep_embedded_validation_scorer, importance_weighted_scorer
from ._labeled import labeled_scorer
from ._reverse import reverse_validation_scorer

__all__ = [
    "deep_embedded_validation_scorer",
    "importance_weighted_scorer",
    "information_maximization_scorer",
    "labeled_scorer",
    "mean_rank_refit",
    "mean_ranks",
    "prediction_entropy_scorer",
    "proxy_a_distance",
    "recommended_scorer",
    "reverse_validation_scorer",
    "soft_neighborhood_density_scorer",
]

# The validator recommended_scorer uses for each kind of estimator: the single validator
# with the best worst-case regret over every dataset of that kind
# (benchmarks/selection_lodo.py; classification: Amazon, Office, MNIST<->USPS, COIL, moons
# and the wine, diabetes and adult tables; regression: the wine and bike tables). Over
# aggregates too, the same rule picks the mean rank of prediction entropy, information
# maximisation and DEV for classifiers (mean_rank_refit).
RECOMMENDED = {
    "classifier": prediction_entropy_scorer,
    "regressor": importance_weighted_scorer,
}


def recommended_scorer(estimator, X, y):
    """The label-free scorer the benchmarks recommend, for the estimator's kind.

    Classifiers are scored by :func:`prediction_entropy_scorer`, regressors
    by :func:`importance_weighted_scorer` (with squared error): for each
    kind, the single validator with the smallest worst-case regret over the
    benchmark datasets of that kind. Applied leaving each dataset out in
    turn, that rule's pick averaged a regret of 5.7 points of accuracy on
    the held-out classification dataset (worst 14.1, adult) and 0.24 of R²
    on the held-out regression family (worst 0.47, wine): label-free
    selection is far from free, see the "When does DANN help?" page. One
    search setup serves both kinds:
    ``GridSearchCV(..., scoring=recommended_scorer)``.

    Parameters
    ----------
    estimator : fitted DANN estimator, or a pipeline ending in one
        The model to score.
    X : array-like of shape (n_samples, n_features)
        Validation fold, source and target rows.
    y : array-like of shape (n_samples,) or (n_samples, n_outputs)
        Source targets; ``-1`` (classifier) or NaN (regressor) marks target rows.

    Returns
    -------
    float
        The chosen validator's score; higher is better.
    """
    kind = "regressor" if is_regression(estimator) else "classifier"
    return RECOMMENDED[kind](estimator, X, y)
