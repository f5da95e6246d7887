"""Fits done ahead of time by a batched search, taken up by the fits sklearn then runs.

:class:`~skdann.model_selection.BatchedGridSearchCV` trains the candidates of
each fold together, then lets scikit-learn's own search loop run unchanged
(splitting, routing, scoring, ``error_score``, ``cv_results_``, refit). When
that loop calls a DANN estimator's ``fit`` with the parameters and data of a
fit done ahead, the estimator takes that fit's state (or raises its error)
instead of training again. The fits are matched by a hash of the estimator's
class, its parameters and every argument of ``fit``, so a fit that differs in
anything (another fold, preprocessing that is not deterministic) trains as
usual. Outside a batched search's ``fit`` nothing is registered and ``fit``
only reads an empty context variable.
"""

import contextlib
import contextvars
import warnings

import joblib
from sklearn.base import BaseEstimator, clone
from sklearn.pipeline import Pipeline

from ._warnings import user_stacklevel

_ACTIVE = contextvars.ContextVar("skdann_prefitted_fits", default=None)


def fit_arguments(
    X, y=None, X_target=None, *, y_target=None, sample_domain=None, sample_weight=None
):
    """The arguments of a DANN estimator's ``fit``, in its order (a ``TypeError`` if unknown)."""
    return (X, y, X_target, y_target, sample_domain, sample_weight)


def fit_key(estimator, arguments):
    """Hash of the estimator's class, parameters and ``fit`` arguments."""
    return joblib.hash((type(estimator).__qualname__, estimator.get_params(deep=False), arguments))


class PrefittedFits:
    """Outcomes of fits done ahead: a fitted estimator and its warnings, or an exception."""

    def __init__(self):
        self._outcomes = {}
        self.n_added = 0
        self.n_taken = 0

    def __len__(self):
        return self.n_added

    def add(self, key, outcome):
        self._outcomes.setdefault(key, []).append(outcome)
        self.n_added += 1

    def pending(self):
        """Whether any fit done ahead is still waiting to be taken."""
        return any(self._outcomes.values())

    def pop(self, key):
        outcomes = self._outcomes.get(key)
        if not outcomes:
            return None
        self.n_taken += 1
        return outcomes.pop(0)

    @contextlib.contextmanager
    def active(self):
        """Make these fits available to the DANN estimators' ``fit`` calls in this context."""
        token = _ACTIVE.set(self)
        try:
            yield self
        finally:
            _ACTIVE.reset(token)


def take_prefitted(estimator, arguments):
    """Give ``estimator`` the state of a matching fit done ahead; ``False`` if there is none.

    Raises the fit's exception when that fit failed (as the plain fit would
    have), and the fit's warnings from the user's line.
    """
    fits = _ACTIVE.get()
    if fits is None or not fits.pending():
        return False
    try:
        key = fit_key(estimator, arguments)
    except Exception:  # a parameter joblib cannot hash: no fit done ahead matches it
        return False
    outcome = fits.pop(key)
    if outcome is None:
        return False
    if isinstance(outcome, BaseException):
        raise outcome
    fitted, pending = outcome
    estimator._restore_fitted_state(fitted._fitted_state())
    for warning in pending:
        warnings.warn(warning, stacklevel=user_stacklevel())
    return True


class _FitCapture(BaseEstimator):
    """Stands in for a pipeline's DANN step and records what its ``fit`` receives."""

    def __init__(self, estimator):
        self.estimator = estimator

    def fit(self, X, y=None, **fit_params):
        self.arguments_ = fit_arguments(X, y, **fit_params)
        return self

    def get_metadata_routing(self):
        return self.estimator.get_metadata_routing()


def dann_path(estimator):
    """``""`` for a DANN estimator, the ``set_params`` path of a pipeline's last step, or None."""
    from ._base import BaseDANN  # the estimators' module imports this one's users lazily

    path = []
    while isinstance(estimator, Pipeline):
        name, estimator = estimator.steps[-1]
        path.append(name)
    return "__".join(path) if isinstance(estimator, BaseDANN) else None


def step(estimator, path):
    for name in path.split("__"):
        estimator = estimator.named_steps[name]
    return estimator


def capture_fit_arguments(pipeline, path, X, y, fit_params):
    """Fit ``pipeline``'s preprocessing as its ``fit`` would; return it and its DANN step's args.

    Returns ``(probe, arguments)``: a clone of ``pipeline`` whose steps before
    the DANN step are fitted (the DANN step is a stand-in), and the
    :func:`fit_arguments` the DANN step's ``fit`` would have received.
    """
    capture = _FitCapture(step(pipeline, path))
    probe = clone(pipeline).set_params(**{path: capture})
    probe.fit(X, y, **fit_params)
    return probe, step(probe, path).arguments_


def fit_together(estimators, X, y, X_target, fit_params):
    """Fit DANN estimators (or pipelines ending in one) of one graph together.

    Pipelines are fitted up to their DANN step one by one (as their own fit
    does); when every one hands its DANN step the same arguments, the DANN
    steps are trained together and each pipeline gets its own. Returns the
    fitted estimators, or ``None`` when the pipelines' preprocessing differs
    (the caller then fits them one by one).
    """
    from .batched import fit_batched

    path = dann_path(estimators[0])
    if path == "":
        return fit_batched(estimators, X, y, X_target, **fit_params)
    probes, arguments, key = [], None, None
    for estimator in estimators:
        probe, given = capture_fit_arguments(estimator, path, X, y, fit_params)
        if key is None:
            arguments, key = given, joblib.hash(given)
        elif joblib.hash(given) != key:
            return None
        probes.append(probe)
    X, y, X_target, y_target, sample_domain, sample_weight = arguments
    danns = fit_batched(
        [step(e, path) for e in estimators],
        X,
        y,
        X_target,
        y_target=y_target,
        sample_domain=sample_domain,
        sample_weight=sample_weight,
    )
    return [probe.set_params(**{path: dann}) for probe, dann in zip(probes, danns, strict=True)]
