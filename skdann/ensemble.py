"""Average DANN models trained with different seeds, and aggregate candidate models.

DANN's result moves by several points with the seed, most on small tables.
``benchmarks/seed_ensemble.py`` measured, on the tables of
``benchmarks/tabular.py``, that averaging the probabilities (or predictions)
of a few seeds' models both raises the mean score and shrinks its spread:
see the "When does DANN help?" page.

Three functions turn the predictions of several candidates (seeds, λ values,
objectives, source-only baselines) into one: :func:`average_predictions`,
:func:`ensemble_validation_scores` (EnsV) and
:func:`importance_weighted_aggregation` (IWA).
"""

import numbers

import numpy as np
from sklearn import get_config
from sklearn.base import BaseEstimator, MetaEstimatorMixin, clone, is_classifier
from sklearn.metrics import accuracy_score, r2_score
from sklearn.pipeline import Pipeline
from sklearn.utils import check_random_state
from sklearn.utils.metadata_routing import MetadataRouter, MethodMapping, process_routing
from sklearn.utils.metaestimators import available_if
from sklearn.utils.validation import check_is_fitted

from ._aggregation import (
    average_predictions,
    ensemble_validation_scores,
    importance_weighted_aggregation,
)
from ._guarded import GuardedAdaptationClassifier, GuardedAdaptationRegressor
from ._prefit import dann_path, fit_together, step
from ._scoring import labeled_score
from .batched import batching_reason, graph_key

__all__ = [
    "GuardedAdaptationClassifier",
    "GuardedAdaptationRegressor",
    "SeedEnsemble",
    "average_predictions",
    "ensemble_validation_scores",
    "importance_weighted_aggregation",
]


class SeedEnsemble(MetaEstimatorMixin, BaseEstimator):
    """Fit one estimator with ``n_seeds`` seeds and average the models.

    Every parameter named ``random_state`` in ``estimator`` (a DANN
    estimator or a pipeline ending in one) is set to a different seed per
    member; the members are fitted on the same data. A classifier ensemble
    averages the members' class probabilities, a regressor ensemble their
    predictions. It takes the stacked form of ``fit`` (target rows marked in
    ``y``) and, over a DANN estimator, the three-argument form (a pipeline
    takes the stacked form only), so it goes into pipelines and
    searches like its members, and the label-free scorers of
    :mod:`skdann.metrics` score it (``transform`` concatenates the members'
    features, for deep embedded validation). Under scikit-learn's metadata
    routing it requests what its estimator requests (a DANN estimator's
    ``sample_domain``) and passes it to every member; ``predict_proba``
    exists only when the estimator has it.

    The members train together in one pass, as one stacked network
    (:func:`skdann.batched.fit_batched`), when the estimator allows it
    (:func:`skdann.batched.batching_reason`) and, for a pipeline, when its
    steps before the DANN estimator hand every member the same rows (no
    other step with a ``random_state`` that changes them); otherwise one by
    one. Each member is the model its own fit would give, up to float
    rounding of the batched products.

    Parameters
    ----------
    estimator : estimator
        The model to repeat; cloned, never fitted itself.
    n_seeds : int, default=5
        Number of members.
    random_state : int, RandomState instance or None, default=None
        Draws the members' seeds.

    Attributes
    ----------
    estimators_ : list of estimators
        The fitted members.
    seeds_ : list of int
        Their seeds.
    classes_ : ndarray
        Class labels (classifiers only), from the first member.
    n_features_in_ : int
        Number of features seen in ``fit`` (when the members record it).
    feature_names_in_ : ndarray of str
        Names of the features seen in ``fit``, when ``X`` had string column
        names.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann import DANNClassifier
    >>> from skdann.ensemble import SeedEnsemble
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(60, 2))
    >>> y_source = (X_source[:, 0] > 0).astype(int)
    >>> X_target = rng.normal(size=(60, 2)) + 0.5
    >>> model = SeedEnsemble(DANNClassifier(max_iter=3), n_seeds=3, random_state=0)
    >>> model.fit(X_source, y_source, X_target).predict_proba(X_target).shape
    (60, 2)
    """

    __metadata_request__score = {"sample_domain": True}

    def __init__(self, estimator, n_seeds=5, random_state=None):
        self.estimator = estimator
        self.n_seeds = n_seeds
        self.random_state = random_state

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        member = self.estimator.__sklearn_tags__()
        tags.estimator_type = member.estimator_type
        tags.input_tags = member.input_tags
        tags.target_tags.required = True
        return tags

    def fit(self, X, y, X_target=None, **fit_params):
        """Fit ``n_seeds`` clones of ``estimator``, each with its own seed.

        Parameters
        ----------
        X, y, X_target, **fit_params
            As the member's ``fit``.

        Returns
        -------
        self : object
        """
        n_seeds = self.n_seeds
        if not isinstance(n_seeds, numbers.Integral) or isinstance(n_seeds, bool) or n_seeds < 1:
            raise ValueError(f"n_seeds must be a positive integer, got {n_seeds!r}.")
        if X_target is not None and isinstance(self.estimator, Pipeline):
            raise ValueError(
                "SeedEnsemble over a Pipeline takes the stacked form only (a Pipeline's fit has "
                "no X_target): X, y = skdann.stack_domains(X_source, y_source, X_target), then "
                "fit(X, y)."
            )
        if get_config()["enable_metadata_routing"]:
            fit_params = process_routing(self, "fit", **fit_params).estimator.fit
        rng = check_random_state(self.random_state)
        seeds = [int(s) for s in rng.randint(np.iinfo(np.int32).max, size=self.n_seeds)]
        members = []
        for seed in seeds:
            member = clone(self.estimator)
            names = [k for k in member.get_params() if k.split("__")[-1] == "random_state"]
            if not names:
                raise ValueError(
                    f"{type(self.estimator).__name__} has no random_state parameter to vary."
                )
            members.append(member.set_params(**dict.fromkeys(names, seed)))
        if len(members) > 1 and _batchable(members):
            fitted = fit_together(members, X, y, X_target, fit_params)
            if fitted is not None:
                return self._set_members(fitted, seeds)
        args = (X, y) if X_target is None else (X, y, X_target)
        return self._set_members([m.fit(*args, **fit_params) for m in members], seeds)

    def _set_members(self, members, seeds):
        """Set the fitted attributes from fitted members (``fit``, and :func:`skdann.io.load`)."""
        self.estimators_ = members
        self.seeds_ = seeds
        if is_classifier(self):
            self.classes_ = members[0].classes_
        for name in ("n_features_in_", "feature_names_in_"):
            if hasattr(members[0], name):
                setattr(self, name, getattr(members[0], name))
        return self

    def get_metadata_routing(self):
        """Route ``fit``'s metadata (``sample_domain``, ``sample_weight``) to the members.

        Returns
        -------
        MetadataRouter
            What the estimator's ``fit`` requests, for every member.
        """
        router = MetadataRouter(owner=self).add_self_request(self)
        mapping = MethodMapping().add(caller="fit", callee="fit")
        return router.add(estimator=self.estimator, method_mapping=mapping)

    @available_if(lambda self: hasattr(self.estimator, "predict_proba"))
    def predict_proba(self, X):
        """Mean of the members' class probabilities."""
        check_is_fitted(self)
        return np.mean([m.predict_proba(X) for m in self.estimators_], axis=0)

    def predict(self, X):
        """Most probable class of the averaged probabilities, or the mean prediction."""
        check_is_fitted(self)
        if is_classifier(self):
            return self.classes_[np.argmax(self.predict_proba(X), axis=1)]
        return np.mean([m.predict(X) for m in self.estimators_], axis=0)

    def transform(self, X):
        """The members' learned features, side by side."""
        check_is_fitted(self)
        return np.hstack([m.transform(X) for m in self.estimators_])

    def score(self, X, y, sample_weight=None, sample_domain=None):
        """Accuracy (classifier) or R² (regressor) on the labeled rows of ``y``.

        As the members' ``score``: marked rows are ignored, and with
        ``sample_domain`` only labeled target rows are scored when there are any.
        """
        return labeled_score(self, X, y, sample_weight, sample_domain)

    def _metric(self, y, y_pred, sample_weight):
        metric = accuracy_score if is_classifier(self) else r2_score
        return metric(y, y_pred, sample_weight=sample_weight)


def _batchable(members):
    """Whether the members' DANN estimators can train together (one graph, batchable)."""
    path = dann_path(members[0])
    if path is None:
        return False
    danns = [step(m, path) if path else m for m in members]
    if any(batching_reason(d) is not None for d in danns):
        return False
    return len({graph_key(d) for d in danns}) == 1
