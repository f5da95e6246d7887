"""``BatchedGridSearchCV``: ``GridSearchCV`` whose DANN candidates train together."""

import copy
from collections import Counter, defaultdict

import joblib
from sklearn.base import clone, is_classifier
from sklearn.model_selection import GridSearchCV, ParameterGrid, check_cv
from sklearn.pipeline import Pipeline
from sklearn.utils import Bunch
from sklearn.utils.metadata_routing import _routing_enabled, process_routing
from sklearn.utils.metaestimators import _safe_split
from sklearn.utils.validation import _check_method_params

from ._prefit import PrefittedFits, capture_fit_arguments, dann_path, fit_arguments, fit_key, step
from .batched import batching_reason, fit_outcomes, graph_key

__all__ = ["BatchedGridSearchCV"]


class BatchedGridSearchCV(GridSearchCV):
    """Exhaustive search whose DANN candidates are trained together, fold by fold.

    A drop-in :class:`~sklearn.model_selection.GridSearchCV`: the same
    constructor, the same ``cv_results_`` (keys, ranks), ``best_*``
    attributes, multi-metric ``scoring`` and ``refit``, ``error_score``,
    ``return_train_score`` and metadata routing of ``sample_domain`` and
    ``sample_weight``. Before scikit-learn's search loop runs, the
    candidates are grouped by the parameters that change the computation
    graph (widths, activation, batch size, epochs, objective, ...: all
    but :data:`skdann.batched.PER_COPY_PARAMETERS`) and, in every fold, each
    group of two or more is trained as one stacked network
    (:func:`skdann.batched.fit_batched`). scikit-learn's loop then runs
    unchanged and each fit it calls takes the matching fit done ahead
    instead of training again, so scoring, ranking and refitting are
    scikit-learn's own. Candidates that cannot be batched (a custom
    ``feature_extractor``, ``solver="adam"``, user callbacks,
    ``label_shift="iwdan"``, CDAN, a non-DANN estimator) are fitted one by
    one, as by ``GridSearchCV``; ``verbose > 0`` prints why.

    The estimator may be a DANN estimator or a :class:`~sklearn.pipeline.Pipeline`
    ending in one (nested pipelines too): the preprocessing is fitted on each
    fold as the pipeline fits it, and the DANN step's candidates train
    together on its output. Candidates that differ in a parameter of another
    step form groups of their own.

    Parameters
    ----------
    estimator, param_grid, scoring, n_jobs, refit, cv, verbose, pre_dispatch, \
error_score, return_train_score
        As :class:`~sklearn.model_selection.GridSearchCV`. ``n_jobs`` applies
        when no candidate is batched; with batched candidates, scikit-learn's
        loop runs in this process (it only scores and fits the unbatched
        candidates), and the batched training uses torch's threads.

    Attributes
    ----------
    cv_results_, best_estimator_, best_score_, best_params_, best_index_, \
scorer_, n_splits_, refit_time_, multimetric_
        As :class:`~sklearn.model_selection.GridSearchCV`.
    batching_ : dict
        What was trained together: ``groups`` (candidate indices of each
        batched group), ``unbatched`` (candidate index to the reason it was
        fitted one by one), ``n_batched_fits`` (fold fits done ahead) and
        ``n_taken`` (those the search loop took; fewer means some fits did
        not match, e.g. preprocessing that is not deterministic, and were
        trained again), and ``n_preprocessing_fits_reused`` (fits of a pipeline's
        steps before its DANN step served from the search's cache).

    See Also
    --------
    skdann.batched.fit_batched : Fit several estimators together.

    Notes
    -----
    A fit done ahead is taken only when the search loop fits the same
    estimator class with the same parameters on the same arrays (compared by
    hash), so a shuffled ``cv`` without a fixed ``random_state`` or
    preprocessing that is not deterministic makes the loop train those
    candidates again, one by one (correct, but not faster).

    Examples
    --------
    >>> import numpy as np
    >>> from skdann import DANNClassifier, stack_domains
    >>> from skdann.model_selection import BatchedGridSearchCV, DomainStratifiedKFold
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(60, 3))
    >>> y_source = (X_source[:, 0] > 0).astype(int)
    >>> X, y = stack_domains(X_source, y_source, rng.normal(size=(60, 3)) + 0.5)
    >>> search = BatchedGridSearchCV(
    ...     DANNClassifier(max_iter=3, random_state=0, label_shift_warning=None),
    ...     {"adversarial_weight": [0.1, 1.0], "alpha": [1e-4, 1e-2]},
    ...     cv=DomainStratifiedKFold(n_splits=2),
    ... ).fit(X, y)
    >>> search.batching_["groups"]
    [[0, 1, 2, 3]]
    """

    def fit(self, X, y=None, **params):
        """Run fit with all sets of parameters, batched candidates trained together.

        Parameters
        ----------
        X, y, **params
            As :meth:`sklearn.model_selection.GridSearchCV.fit`.

        Returns
        -------
        self : object
            The fitted search.
        """
        fits = PrefittedFits()
        estimator = self.estimator
        # A pipeline's steps before its DANN step are fitted once per fold and group,
        # as Pipeline(memory=...) would (only when the user set no memory of their own).
        cache = None
        if isinstance(estimator, Pipeline) and estimator.memory is None:
            cache = FitCache()
            self.estimator = clone(estimator).set_params(memory=cache)
        try:
            batching = self._fit_ahead(fits, X, y, params)
            n_jobs = self.n_jobs
            try:
                if len(fits):
                    self.n_jobs = None  # the fits done ahead live in this process
                with fits.active():
                    super().fit(X, y, **params)
            finally:
                self.n_jobs = n_jobs
        finally:
            self.estimator = estimator
        if cache is not None and hasattr(self, "best_estimator_"):
            self.best_estimator_.set_params(memory=None)
        batching["n_taken"] = fits.n_taken
        batching["n_preprocessing_fits_reused"] = 0 if cache is None else cache.n_reused
        self.batching_ = batching
        if self.verbose > 0 and fits.n_taken < len(fits):
            print(
                f"[BatchedGridSearchCV] {len(fits) - fits.n_taken} of {len(fits)} fits done "
                "ahead did not match the search's own fits (preprocessing or cv splits that "
                "are not deterministic) and were trained again."
            )
        return self

    def _fit_ahead(self, fits, X, y, params):
        """Group the candidates, train each batchable group per fold, register the fits."""
        path = dann_path(self.estimator)
        candidates = list(ParameterGrid(self.param_grid))
        groups, unbatched = defaultdict(list), {}
        for index, candidate in enumerate(candidates):
            estimator = clone(self.estimator).set_params(**clone(candidate, safe=False))
            if path is None:
                unbatched[index] = "not a DANN estimator or a Pipeline ending in one"
                continue
            dann = step(estimator, path) if path else estimator
            reason = batching_reason(dann)
            if reason is not None:
                unbatched[index] = reason
                continue
            prefix = path + "__"
            other = {k: v for k, v in candidate.items() if path and not k.startswith(prefix)}
            groups[(graph_key(dann), joblib.hash(other))].append(index)
        batched = [members for members in groups.values() if len(members) > 1]
        for members in groups.values():
            if len(members) == 1:
                unbatched[members[0]] = "no other candidate shares its graph"
        batching = {
            "groups": batched,
            "unbatched": dict(sorted(unbatched.items())),
            "n_batched_fits": 0,
        }
        self._report_groups(batched, unbatched, len(candidates))
        if not batched:
            return batching
        routed = self._routed_params(params)
        cv = check_cv(self.cv, y, classifier=is_classifier(self.estimator))
        for train, _ in cv.split(X, y, **routed.splitter.split):
            X_train, y_train = _safe_split(self.estimator, X, y, train)
            fold_params = _check_method_params(X, params=routed.estimator.fit, indices=train)
            for members in batched:
                batching["n_batched_fits"] += self._fit_group(
                    fits, [candidates[i] for i in members], path, X_train, y_train, fold_params
                )
        return batching

    def _fit_group(self, fits, candidates, path, X_train, y_train, fold_params):
        """Train one group on one fold; register and count its fits (0 when it fell back)."""
        estimators = [clone(self.estimator).set_params(**clone(c, safe=False)) for c in candidates]
        try:
            if path == "":
                arguments = fit_arguments(X_train, y_train, **fold_params)
            else:
                arguments = capture_fit_arguments(
                    estimators[0], path, X_train, y_train, fold_params
                )[1]
        except TypeError as exc:  # arguments the estimator does not take: its fit says so
            return self._fell_back(len(candidates), exc)
        danns = [step(e, path) if path else e for e in estimators]
        try:
            keys = [fit_key(d, arguments) for d in danns]
            outcomes = fit_outcomes(danns, *arguments)
        except Exception as exc:  # bad data (each fit of the loop raises it), or unhashable
            return self._fell_back(len(candidates), exc)
        for key, outcome in zip(keys, outcomes, strict=True):
            fits.add(key, outcome)
        return len(outcomes)

    def _fell_back(self, n_candidates, exc):
        if self.verbose > 0:
            print(
                f"[BatchedGridSearchCV] a group of {n_candidates} could not train together on "
                f"a fold ({type(exc).__name__}: {exc}); the search loop fits them one by one."
            )
        return 0

    def _routed_params(self, params):
        if _routing_enabled():
            return process_routing(self, "fit", **params)
        params = dict(params)
        groups = params.pop("groups", None)
        return Bunch(estimator=Bunch(fit=params), splitter=Bunch(split={"groups": groups}))

    def _report_groups(self, batched, unbatched, n_candidates):
        if self.verbose <= 0:
            return
        n_batched = sum(len(m) for m in batched)
        sizes = ", ".join(str(len(m)) for m in batched) or "none"
        print(
            f"[BatchedGridSearchCV] {n_candidates} candidates: {n_batched} in {len(batched)} "
            f"batched group(s) (sizes {sizes}), trained together in each fold; "
            f"{len(unbatched)} fitted one by one."
        )
        for reason, count in Counter(unbatched.values()).most_common():
            print(f"[BatchedGridSearchCV]   {count} fitted one by one: {reason}")


class FitCache:
    """An in-process ``memory`` for a pipeline: each preprocessing fit runs once.

    It has the one method of joblib's ``Memory`` interface that
    :class:`~sklearn.pipeline.Pipeline` calls, ``cache``. A call is looked up
    by a hash of its arguments (the unfitted transformer, the rows, the
    targets, the routed parameters); a hit returns a deep copy of the first
    call's result (the transformed rows and the fitted transformer), so no two
    pipelines share a fitted step.
    """

    def __init__(self):
        self._results = {}
        self.n_reused = 0

    def cache(self, func, ignore=None, **kwargs):
        skipped = {"caller", "callback_ctx", *(ignore or ())}

        def cached(*args, **kwargs):
            kept = {k: v for k, v in kwargs.items() if k not in skipped}
            key = joblib.hash((func.__module__, func.__qualname__, args, kept))
            if key not in self._results:
                self._results[key] = func(*args, **kwargs)
                return copy.deepcopy(self._results[key])
            self.n_reused += 1
            return copy.deepcopy(self._results[key])

        return cached

    def __deepcopy__(self, memo):
        return self  # cloning a pipeline that holds it keeps one cache

    def __repr__(self):
        return "FitCache()"
