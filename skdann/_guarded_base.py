"""DANN candidates weighed against the source-only models a user would otherwise fit.

On tables, chosen without target labels, DANN does not reliably beat a
logistic regression or gradient boosting trained on the source
(``benchmarks/tabular.py``). :class:`GuardedAdaptationClassifier` and
:class:`GuardedAdaptationRegressor` fit both kinds of model and keep what
the evidence supports:

1. the labeled source rows are split into fit rows and holdout rows
   (``validation_fraction``);
2. the baselines (default: logistic or ridge regression and histogram
   gradient boosting) are fitted on the source fit rows, the adaptation
   candidates (default: DANN at lambda 0, 0.1, 0.3 and 1, trained together
   in one batched fit) on the source fit rows and all target rows;
3. a logistic regression telling target rows from source rows gives each
   holdout row its density ratio; each candidate's holdout score is
   weighted by it (IWCV), so it estimates the target score under
   covariate shift;
4. a rule (``rule``, see :mod:`skdann._guard_rules`) turns the scores into
   weights. The default, ``"average_baselines"``, averages the baselines and
   trains no adaptation candidate: chosen by ``benchmarks/guarded.py``
   leaving each table family out, it beat every rule that weighs DANN
   candidates on 21 shifted tables (no holdout score, importance-weighted or
   not, told reliably which model would do best on the target);
5. the baselines are refitted on all source rows (cheap), and the model
   predicts the weighted sum of its candidates' probabilities or values.

``report_`` keeps what was weighed: every candidate's holdout scores and
weight, the reason, the density ratio's effective number of rows and, for
classifiers, the label-shift estimate.
"""

import copy
import warnings
from numbers import Real
from typing import Any, NamedTuple

import numpy as np
import scipy.sparse as sp
from sklearn.base import (
    BaseEstimator,
    MetaEstimatorMixin,
    clone,
    is_classifier,
)
from sklearn.exceptions import DataConversionWarning
from sklearn.metrics import accuracy_score, r2_score
from sklearn.model_selection import train_test_split
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import _num_samples, check_is_fitted

from ._domains import stack_domains
from ._fit_rows import fit_rows
from ._guard_rules import BASELINE_RULES, RULES, choose_weights, combine, weighted_scores
from ._scoring import labeled_score
from ._warnings import user_stacklevel
from .metrics._importance import _density_ratio

DEFAULT_WEIGHTS = (0.0, 0.1, 0.3, 1.0)
_MAX_DENSITY_ROWS = 5000  # target rows the density-ratio model sees at most


class _FitData(NamedTuple):
    X_source: Any
    y_source: np.ndarray
    source_domain: np.ndarray
    X_target: Any
    target_domain: np.ndarray
    n_source_domains: int


class _GuardedAdaptation(MetaEstimatorMixin, BaseEstimator):
    """Shared fit and predict of the classifier and the regressor."""

    _parameter_constraints = {
        "candidates": [list, None],
        "baselines": [list, None],
        "rule": [StrOptions(set(RULES))],
        "margin": [Interval(Real, 0, None, closed="left")],
        "validation_fraction": [Interval(Real, 0, 0.5, closed="right")],
        "random_state": ["random_state"],
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
    ):
        self.candidates = candidates
        self.baselines = baselines
        self.rule = rule
        self.margin = margin
        self.validation_fraction = validation_fraction
        self.random_state = random_state

    def fit(self, X, y, X_target=None, *, sample_domain=None):
        """Fit every candidate, weigh them on the source holdout, keep the weighted model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Without ``X_target``: source and target rows, the target rows
            marked in ``y``. With ``X_target``: the labeled source rows.
        y : array-like of shape (n_samples,)
            Labels (targets) of the rows of ``X``; ``-1`` (classifier) or
            NaN (regressor) marks an unlabeled target row.
        X_target : {array-like, sparse matrix} of shape (n_target, n_features), default=None
            Unlabeled target rows.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Domain of each row of the stacked form, as for
            :meth:`DANNClassifier.fit <skdann.DANNClassifier.fit>`: the
            adaptation candidates get it; the baselines pool the source rows.

        Returns
        -------
        self
            The fitted estimator.
        """
        self._validate_params()
        previous = {k: v for k, v in vars(self).items() if k.endswith("_")}
        try:
            return self._fit(X, y, X_target, sample_domain)
        except BaseException:
            # Never leave a half-fitted estimator in place of a fitted one.
            for name in [k for k in vars(self) if k.endswith("_")]:
                delattr(self, name)
            vars(self).update(previous)
            raise

    def _fit(self, X, y, X_target, sample_domain):
        data = self._fit_data(X, y, X_target, sample_domain)
        fit_idx, hold_idx = self._split(data.y_source, data.source_domain)
        # A rule that weighs the baselines only trains no adaptation candidate.
        candidates = [] if self.rule in BASELINE_RULES else self._candidates()
        named = self._baselines(sp.issparse(data.X_source)) + candidates
        names = [name for name, _ in named]
        if len(set(names)) != len(names):
            raise ValueError(f"candidate and baseline names must be unique; got {names}.")
        n_baselines = len(named) - len(candidates)
        is_baseline = np.arange(len(named)) < n_baselines
        models = [
            clone(m).fit(data.X_source[fit_idx], data.y_source[fit_idx])
            for _, m in named[:n_baselines]
        ]
        models += self._fit_candidates([m for _, m in named[n_baselines:]], data, fit_idx)
        X_hold, y_hold = data.X_source[hold_idx], data.y_source[hold_idx]
        holdout = np.stack([self._outputs(m, X_hold) for m in models])
        allowed, label_shift = self._allowed(named, is_baseline, data)
        # The baselines are cheap: refit on every source row, as the user would fit them.
        for index, (_, model) in enumerate(named[:n_baselines]):
            models[index] = clone(model).fit(data.X_source, data.y_source)
        self.candidates_ = dict(zip(names, models, strict=True))
        self.n_features_in_ = data.X_source.shape[1]
        self.evidence_ = {
            "names": names,
            "is_baseline": is_baseline,
            "considered": is_baseline | allowed,
            "holdout_predictions": holdout,
            "holdout_targets": y_hold,
            "importance": self._importance(X_hold, data.X_target),
            "counts": {"n_source_fit": len(fit_idx), "n_source_holdout": len(hold_idx),
                       "n_target": int(data.X_target.shape[0])},
            **label_shift,
        }  # fmt: skip
        return self._weigh()

    def reweigh(self, rule=None, margin=None):
        """Return a copy of this fitted model weighed by another rule, without refitting.

        The candidates are shared with this model; only ``weights_`` and
        ``report_`` are computed again from ``evidence_``. A model fitted
        with a rule that weighs the baselines only (``"baselines"``,
        ``"average_baselines"``) trained no adaptation candidate, so any
        rule then weighs its baselines only.

        Parameters
        ----------
        rule : str, default=None
            The new ``rule`` (``None``: keep this model's).
        margin : float, default=None
            The new ``margin`` (``None``: keep this model's).

        Returns
        -------
        estimator
            A fitted estimator of the same class.
        """
        check_is_fitted(self)
        other = copy.copy(self)
        params = {"rule": rule, "margin": margin}
        other.set_params(**{k: v for k, v in params.items() if v is not None})
        other._validate_params()
        return other._weigh()

    def _weigh(self):
        """Set ``weights_`` and ``report_`` from ``evidence_`` under the current rule."""
        evidence = self.evidence_
        keep, is_baseline = evidence["considered"], evidence["is_baseline"]
        holdout, y_hold = evidence["holdout_predictions"], evidence["holdout_targets"]
        importance = evidence["importance"]
        classes = self.classes_ if is_classifier(self) else None
        scores = weighted_scores(holdout, y_hold, importance, classes)
        plain = weighted_scores(holdout, y_hold, np.ones(len(y_hold)), classes)
        weights = np.zeros(len(scores))
        weights[keep], reason = choose_weights(
            self.rule, self.margin, scores[keep], is_baseline[keep], holdout[keep], y_hold,
            importance, classes,
        )  # fmt: skip
        self.weights_ = dict(zip(evidence["names"], weights.tolist(), strict=True))
        rows = zip(evidence["names"], is_baseline, plain, scores, weights, keep, strict=True)
        self.report_ = {
            "rule": self.rule,
            "margin": float(self.margin),
            "reason": reason,
            "chosen": {name: w for name, w in self.weights_.items() if w != 0},
            "candidates": [
                {
                    "name": name,
                    "kind": "baseline" if base else "adaptation",
                    "holdout_score": float(p),
                    "importance_weighted_score": float(s),
                    "weight": float(w),
                    "considered": bool(k),
                }
                for name, base, p, s, w, k in rows
            ],
            **evidence["counts"],
            "importance_effective_rows": float(importance.sum() ** 2 / (importance**2).sum()),
        }
        if is_classifier(self):
            self.report_["label_shift"] = evidence.get("label_shift")
        return self

    def _fit_data(self, X, y, X_target, sample_domain):
        """The source rows (labels, domains) and the target rows, checked."""
        template = self._template(None)
        rows = fit_rows(template, X, y, X_target, None, sample_domain)
        if (rows.labeled & rows.is_target).any():
            raise ValueError(
                f"{type(self).__name__} takes unlabeled target rows only; fit a DANN "
                "estimator with y_target to use labeled target rows."
            )
        source = ~rows.is_target
        y_labeled = rows.y_labeled
        if y_labeled.ndim == 2 and y_labeled.shape[1] == 1:
            warnings.warn(
                "A column-vector y was passed when a 1d array was expected; it is raveled.",
                DataConversionWarning,
                stacklevel=user_stacklevel(),
            )
            y_labeled = y_labeled.ravel()
        if y_labeled.ndim > 1:
            raise ValueError(
                f"{type(self).__name__} takes one target column; y has shape {y_labeled.shape}."
            )
        if source.all():
            warnings.warn(
                f"{type(self).__name__}.fit got no target rows: the candidates are weighed on "
                "the source holdout without importance weights, and the adaptation "
                "candidates train source-only.",
                UserWarning,
                stacklevel=user_stacklevel(),
            )
        if is_classifier(self):
            template._encode_targets(y_labeled)  # one class, non-class labels: its errors
            self.classes_ = np.unique(y_labeled)
        return _FitData(
            X_source=rows.X[np.flatnonzero(source)],
            y_source=y_labeled,
            source_domain=rows.domain[source],
            X_target=rows.X[np.flatnonzero(~source)],
            target_domain=rows.domain[~source],
            n_source_domains=rows.n_source_domains,
        )

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # CSR rows: the DANN candidates and a linear baseline
        return tags

    def _split(self, y_source, domains):
        """Source fit and holdout rows, stratified by class and source domain when possible."""
        index = np.arange(len(y_source))
        strata = domains.astype(str)
        if is_classifier(self):
            strata = np.char.add(np.char.add(strata, "|"), np.asarray(y_source).astype(str))
        try:
            return train_test_split(
                index, test_size=self.validation_fraction, random_state=self.random_state,
                stratify=strata,
            )  # fmt: skip
        except ValueError:  # a stratum with one row: split without strata
            return train_test_split(
                index, test_size=self.validation_fraction, random_state=self.random_state
            )

    def _candidates(self):
        if self.candidates is not None:
            return _named(self.candidates, "candidates")
        seed = self.random_state
        return [
            (f"dann_lambda_{w:g}", self._template(seed).set_params(adversarial_weight=w))
            for w in DEFAULT_WEIGHTS
        ]

    def _baselines(self, sparse):
        if self.baselines is not None:
            return _named(self.baselines, "baselines")
        return self._default_baselines(sparse)

    def _fit_candidates(self, models, data, fit_idx):
        """Fit the adaptation candidates on the source fit rows and all target rows."""
        from ._prefit import fit_together
        from .ensemble import _batchable

        if not models:
            return []
        if data.X_target.shape[0] == 0:
            return [clone(m).fit(data.X_source[fit_idx], data.y_source[fit_idx]) for m in models]
        X, y = stack_domains(
            data.X_source[fit_idx], data.y_source[fit_idx], data.X_target,
            regression=not is_classifier(self),
        )  # fmt: skip
        fit_params = {}
        n_sources = data.n_source_domains
        if n_sources > 1:  # several source domains: the candidates see them
            fit_params["sample_domain"] = np.r_[
                data.source_domain[fit_idx] + 1, n_sources - data.target_domain - 1
            ]
        members = [clone(m) for m in models]
        if len(members) > 1 and _batchable(members):
            fitted = fit_together(members, X, y, None, fit_params)
            if fitted is not None:
                return fitted
        return [m.fit(X, y, **fit_params) for m in members]

    def _outputs(self, model, X):
        if not is_classifier(self):
            return np.asarray(model.predict(X), dtype=np.float64).reshape(_num_samples(X))
        proba = np.zeros((_num_samples(X), len(self.classes_)))
        columns = np.searchsorted(self.classes_, model.classes_)
        proba[:, columns] = model.predict_proba(X)
        return proba

    def _importance(self, X_hold, X_target):
        if X_target.shape[0] == 0:
            return np.ones(X_hold.shape[0])
        rng = np.random.default_rng(0)
        if X_target.shape[0] > _MAX_DENSITY_ROWS:
            X_target = X_target[rng.choice(X_target.shape[0], _MAX_DENSITY_ROWS, replace=False)]
        dense = [x.toarray() if sp.issparse(x) else np.asarray(x) for x in (X_hold, X_target)]
        return _density_ratio(*dense, random_state=0)

    def _allowed(self, named, is_baseline, data):
        """Which adaptation candidates the rule may weigh, and what to report about it."""
        return ~is_baseline, {}

    def _predictions(self, X):
        check_is_fitted(self)
        used = [(self.candidates_[n], w) for n, w in self.weights_.items() if w != 0]
        outputs = np.stack([self._outputs(m, X) for m, _ in used])
        return combine(np.array([w for _, w in used]), outputs)

    def score(self, X, y, sample_weight=None, sample_domain=None):
        """Accuracy (classifier) or R² (regressor) on the labeled rows of ``y``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to score.
        y : array-like of shape (n_samples,)
            Their labels; marked (target) rows are ignored.
        sample_weight : array-like of shape (n_samples,), default=None
            Weight of each row.
        sample_domain : array-like of int of shape (n_samples,), default=None
            With labeled target rows among them, only those are scored.

        Returns
        -------
        float
        """
        return labeled_score(self, X, y, sample_weight, sample_domain)

    def _metric(self, y, y_pred, sample_weight):
        metric = accuracy_score if is_classifier(self) else r2_score
        return metric(y, y_pred, sample_weight=sample_weight)


def _named(models, name):
    """``[(name, estimator)]`` from a list of estimators or of ``(name, estimator)`` pairs."""
    named = []
    for index, item in enumerate(models):
        if isinstance(item, tuple) and len(item) == 2 and isinstance(item[0], str):
            named.append(item)
        elif hasattr(item, "fit"):
            named.append((f"{type(item).__name__.lower()}_{index}", item))
        else:
            raise TypeError(
                f"{name}[{index}] must be an estimator or a (name, estimator) pair; got {item!r}."
            )
    return named
