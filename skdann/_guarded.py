"""The guarded estimators: source-only baselines and DANN candidates, weighed without labels.

How the weighing works is in :mod:`skdann._guarded_base`; this module holds the
public classifier and regressor.
"""

import warnings
from numbers import Real

import numpy as np
from sklearn.base import ClassifierMixin, RegressorMixin
from sklearn.ensemble import HistGradientBoostingClassifier, HistGradientBoostingRegressor
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import Interval

from ._classifier import DANNClassifier
from ._guarded_base import _GuardedAdaptation
from ._regressor import DANNRegressor
from ._warnings import user_stacklevel
from .label_shift import LabelShiftWarning, check_label_shift


class GuardedAdaptationClassifier(ClassifierMixin, _GuardedAdaptation):
    """DANN candidates and source-only baselines, weighed without target labels.

    Fits the baselines a user would otherwise pick (a logistic regression
    and histogram gradient boosting, on the source rows) beside DANN
    candidates (lambda 0, 0.1, 0.3 and 1, trained together), scores each on
    held-out source rows weighted towards the target (importance-weighted
    validation), and keeps one model by ``rule``. The default rule,
    ``"average_baselines"``, averages the two baselines' probabilities and
    trains no DANN candidate: chosen leaving each table family out on 21
    shifted tables (``benchmarks/guarded.py``), it beat every rule that
    weighs the DANN candidates, which lost to the baselines on tables. Use
    another rule to let DANN in; a label-shift check
    (:func:`~skdann.label_shift.check_label_shift`) then takes the DANN
    candidates with lambda > 0 out of the running when the target's class
    proportions look different from the source's, where feature alignment
    is known to hurt.

    Read more in the "Which estimator for my table?" page of the docs.

    Parameters
    ----------
    candidates : list of estimators or (name, estimator) pairs, default=None
        The adaptation candidates: estimators whose ``fit`` takes the
        stacked rows (target rows marked ``-1``), such as DANN estimators
        or pipelines ending in one. ``None``: DANN classifiers at
        ``adversarial_weight`` 0, 0.1, 0.3 and 1, other parameters at their
        defaults, seeded with ``random_state``.
    baselines : list of estimators or (name, estimator) pairs, default=None
        Source-only scikit-learn classifiers with ``predict_proba``.
        ``None``: a standardised ``LogisticRegression`` and a
        ``HistGradientBoostingClassifier`` (left out for sparse input).
    rule : {"conservative", "baselines", "average_baselines", "select", "aggregate", "average"}, \
            default="average_baselines"
        How the candidates become one model (see Notes).
    margin : float, default=0.0
        For ``rule="conservative"``: how much (in accuracy) an adaptation
        candidate's importance-weighted holdout score must exceed the best
        baseline's to be chosen instead.
    validation_fraction : float, default=0.2
        Share of the source rows held out to weigh the candidates.
    random_state : int, default=0
        Seed of the holdout split and of the default candidates.
    label_shift_threshold : float or None, default=0.12
        Estimated total variation between the source's and the target's
        class proportions above which the DANN candidates with lambda > 0
        are not considered (and a :class:`~skdann.label_shift.LabelShiftWarning`
        says so, once per fit). ``None``: no estimate.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        The classes.
    candidates_ : dict of str to estimator
        Every fitted candidate and baseline (baselines refitted on all source rows).
    weights_ : dict of str to float
        The weight of each in the prediction.
    report_ : dict
        What was weighed and why: ``rule``, ``margin``, ``reason``,
        ``chosen`` (names with non-zero weight), ``candidates`` (per
        candidate: ``kind``, ``holdout_score``, ``importance_weighted_score``,
        ``weight``, ``considered``), the row counts,
        ``importance_effective_rows`` and ``label_shift`` (source and
        estimated target proportions, their total variation, whether it
        warned).
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    GuardedAdaptationRegressor : The same for regression.
    skdann.recommended_estimator : The estimator the docs recommend for a table.

    Notes
    -----
    Rules: ``"average_baselines"`` averages the baselines (and trains no
    adaptation candidate); ``"baselines"`` keeps the best baseline by
    importance-weighted holdout score (no candidate trained either);
    ``"conservative"`` keeps the best baseline unless an adaptation
    candidate beats it by more than ``margin``; ``"select"`` keeps the best candidate of all;
    ``"aggregate"`` weighs all candidates by importance-weighted aggregation
    (IWA; Dinu et al., ICLR 2023); ``"average"`` averages them. The default
    rule and margin were chosen by ``benchmarks/guarded.py`` leaving each
    table family out.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann.ensemble import GuardedAdaptationClassifier
    >>> rng = np.random.default_rng(0)
    >>> X = rng.normal(size=(200, 3))
    >>> y = (X[:, 0] > 0).astype(int)
    >>> X_target = rng.normal(size=(100, 3)) + 0.5
    >>> model = GuardedAdaptationClassifier(rule="average_baselines").fit(X, y, X_target)
    >>> model.report_["chosen"]
    {'logistic_regression': 0.5, 'hist_gradient_boosting': 0.5}
    """

    _parameter_constraints = {
        **_GuardedAdaptation._parameter_constraints,
        "label_shift_threshold": [None, Interval(Real, 0, 1, closed="both")],
    }

    def __init__(
        self,
        candidates=None,
        baselines=None,
        *,
        rule="average_baselines",
        margin=0.0,
        validation_fraction=0.2,
        random_state=0,
        label_shift_threshold=0.12,
    ):
        super().__init__(
            candidates,
            baselines,
            rule=rule,
            margin=margin,
            validation_fraction=validation_fraction,
            random_state=random_state,
        )
        self.label_shift_threshold = label_shift_threshold

    score = _GuardedAdaptation.score  # marked target rows ignored, as DANN's score

    def _template(self, seed):
        return DANNClassifier(random_state=seed, label_shift_warning=None)

    def _default_baselines(self, sparse):
        linear = make_pipeline(
            StandardScaler(with_mean=not sparse), LogisticRegression(max_iter=2000)
        )
        baselines = [("logistic_regression", linear)]
        if not sparse:
            booster = HistGradientBoostingClassifier(random_state=self.random_state)
            baselines.append(("hist_gradient_boosting", booster))
        return baselines

    def _allowed(self, named, is_baseline, data):
        allowed = ~is_baseline
        if self.label_shift_threshold is None or data.X_target.shape[0] == 0:
            return allowed, {"label_shift": None}
        check = check_label_shift(data.X_source, data.y_source, data.X_target)
        excluded = []
        if check.total_variation > self.label_shift_threshold:
            for index, (name, model) in enumerate(named):
                if not is_baseline[index] and _adversarial_weight(model) != 0:
                    allowed[index] = False
                    excluded.append(name)
        report = {
            "label_shift": {
                "source_proportions": check.source_proportions.tolist(),
                "target_proportions": check.target_proportions.tolist(),
                "total_variation": check.total_variation,
                "method": check.method,
                "threshold": float(self.label_shift_threshold),
                "excluded": excluded,
            }
        }
        if excluded:
            target = np.round(check.target_proportions, 2).tolist()
            source = np.round(check.source_proportions, 2).tolist()
            warnings.warn(
                f"The target's class proportions look different from the source's (estimated "
                f"{target} against {source}, total variation {check.total_variation:.2f} > "
                f"label_shift_threshold={self.label_shift_threshold:g}). Feature alignment "
                f"then moves target rows onto the source's classes, so the candidates "
                f"{excluded} were not considered.",
                LabelShiftWarning,
                stacklevel=user_stacklevel(),
            )
        return allowed, report

    def predict_proba(self, X):
        """Weighted sum of the kept candidates' class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
        """
        return self._predictions(X)

    def predict(self, X):
        """Most probable class of :meth:`predict_proba`.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        proba = self._predictions(X)
        return self.classes_[np.argmax(proba, axis=1)]


def _adversarial_weight(model):
    """The ``adversarial_weight`` of a DANN estimator or a pipeline's DANN step (0 if none)."""
    params = model.get_params()
    weights = [v for k, v in params.items() if k.split("__")[-1] == "adversarial_weight"]
    return weights[0] if weights else 0


class GuardedAdaptationRegressor(RegressorMixin, _GuardedAdaptation):
    """DANN candidates and source-only baselines, weighed without target labels (regression).

    As :class:`GuardedAdaptationClassifier`, with a standardised ``Ridge``
    and a ``HistGradientBoostingRegressor`` as the default baselines, DANN
    regressors as the default candidates, and holdout scores in R²
    weighted towards the target. There is no label-shift estimate.

    Parameters
    ----------
    candidates : list of estimators or (name, estimator) pairs, default=None
        The adaptation candidates (their ``fit`` takes the stacked rows,
        target rows marked NaN). ``None``: DANN regressors at
        ``adversarial_weight`` 0, 0.1, 0.3 and 1.
    baselines : list of estimators or (name, estimator) pairs, default=None
        Source-only scikit-learn regressors. ``None``: a standardised
        ``Ridge`` and a ``HistGradientBoostingRegressor`` (left out for
        sparse input).
    rule : {"conservative", "baselines", "average_baselines", "select", "aggregate", "average"}, \
            default="average_baselines"
        How the candidates become one model.
    margin : float, default=0.0
        For ``rule="conservative"``: how much (in R²) an adaptation
        candidate's importance-weighted holdout score must exceed the best
        baseline's.
    validation_fraction : float, default=0.2
        Share of the source rows held out to weigh the candidates.
    random_state : int, default=0
        Seed of the holdout split and of the default candidates.

    Attributes
    ----------
    candidates_ : dict of str to estimator
        Every fitted candidate and baseline.
    weights_ : dict of str to float
        The weight of each in the prediction.
    report_ : dict
        What was weighed and why (as the classifier's, without ``label_shift``).
    n_features_in_ : int
        Number of features seen in ``fit``.

    See Also
    --------
    GuardedAdaptationClassifier : The same for classification.
    """

    score = _GuardedAdaptation.score  # marked target rows ignored, as DANN's score

    def _template(self, seed):
        return DANNRegressor(random_state=seed)

    def _default_baselines(self, sparse):
        baselines = [("ridge", make_pipeline(StandardScaler(with_mean=not sparse), Ridge()))]
        if not sparse:
            booster = HistGradientBoostingRegressor(random_state=self.random_state)
            baselines.append(("hist_gradient_boosting", booster))
        return baselines

    def predict(self, X):
        """Weighted sum of the kept candidates' predictions.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        ndarray of shape (n_samples,)
        """
        return self._predictions(X)
