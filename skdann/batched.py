"""Fit many DANN estimators of one architecture in one pass.

On the tables users bring, a fit of the built-in (100, 100) MLP is mostly
per-step overhead around tiny matrix products, so K candidates cost K fits.
:func:`fit_batched` trains K estimators that differ only in parameters that
leave the computation graph alone (:data:`PER_COPY_PARAMETERS`) as one
stacked network: every layer's K weight matrices become one ``(K, out,
in)`` tensor and a step is a few batched matrix products. Each estimator
comes out as an ordinary fitted estimator (it predicts, pickles and saves
like any other); with one estimator the fit is bit for bit the plain fit
(CPU, one thread).

Each copy keeps its own initialisation, batch order, early-stopping split
and dropout masks (all from its ``random_state``, as its plain fit draws
them): copies of one seed share one batch of rows per step, copies of
different seeds each read their own. Early stopping is per copy: a copy that
stops is frozen (learning rate 0) with its best weights while the others go
on.

:class:`skdann.model_selection.BatchedGridSearchCV` and
:class:`skdann.ensemble.SeedEnsemble` use it; it is also public for scripts
that fit their own candidates.
"""

import warnings

import joblib
from sklearn.base import is_regressor

from ._device import out_of_memory_hint
from ._fit_rows import plan_fit
from ._stacked_losses import batched_objective
from ._warnings import user_stacklevel
from .objectives import resolve_objective

__all__ = ["PER_COPY_PARAMETERS", "batching_reason", "fit_batched", "graph_key"]

PER_COPY_PARAMETERS = (
    "random_state",
    "adversarial_weight",
    "adversarial_schedule",
    "alpha",
    "learning_rate_init",
    "learning_rate_schedule",
    "n_iter_no_change",
    "tol",
    "label_shift_warning",
)
"""Parameters that may differ between the estimators of one batched fit."""


def batching_reason(estimator):
    """Why ``estimator`` cannot be fitted in a batch, or ``None`` when it can.

    Parameters
    ----------
    estimator : object
        An unfitted estimator.

    Returns
    -------
    str or None
        A short reason (a custom feature extractor, a solver other than
        SGD, user callbacks, ``verbose``, ``label_shift="iwdan"``, an
        objective without a batched form), or ``None``.
    """
    from ._base import BaseDANN  # the estimators import this module's users lazily

    if not isinstance(estimator, BaseDANN):
        return f"{type(estimator).__name__} is not a DANN estimator"
    params = estimator.get_params(deep=False)
    if params["feature_extractor"] is not None:
        return "a custom feature_extractor"
    if params["solver"] != "sgd":
        return f'solver="{params["solver"]}" (only "sgd" is batched)'
    if params["callbacks"]:
        return "user callbacks"
    if params["verbose"]:
        return "verbose > 0 (each fit prints its own epoch table)"
    if params.get("label_shift") is not None:
        return f'label_shift="{params["label_shift"]}"'
    try:
        objective = resolve_objective(
            params["objective"], type(estimator).__name__, is_regressor(estimator)
        )
    except (TypeError, ValueError) as exc:
        return f"objective: {exc}"
    return batched_objective(objective)


def graph_key(estimator):
    """A key equal for estimators that can be fitted together (same graph, same data use).

    Every parameter but :data:`PER_COPY_PARAMETERS` enters it (by value,
    hashed as joblib hashes), with the estimator's class.
    """
    params = estimator.get_params(deep=False)
    for name in PER_COPY_PARAMETERS:
        params.pop(name, None)
    return joblib.hash((type(estimator).__qualname__, sorted(params.items())))


def fit_batched(
    estimators,
    X,
    y,
    X_target=None,
    *,
    y_target=None,
    sample_domain=None,
    sample_weight=None,
    errors="raise",
):
    """Fit DANN estimators of one architecture together, as one stacked network.

    Parameters
    ----------
    estimators : list of DANNClassifier or list of DANNRegressor
        Estimators that :func:`batching_reason` accepts and that share a
        :func:`graph_key` (they differ only in :data:`PER_COPY_PARAMETERS`).
        Each is fitted in place, as by its own ``fit``.
    X, y, X_target, y_target, sample_domain, sample_weight
        As the estimators' ``fit``.
    errors : {"raise", "return"}, default="raise"
        What a copy that fails in training (its loss or weights stop being
        finite) does: ``"raise"`` raises its error once the others are
        fitted; ``"return"`` puts the exception in its place in the result.
        An estimator that fails keeps its previous fitted state.

    Returns
    -------
    list
        The fitted estimators (the same objects), in order; with
        ``errors="return"``, an exception in place of each that failed.

    Raises
    ------
    ValueError
        When an estimator cannot be batched or the graph keys differ (the
        message names the first that differs and why), or when the data is
        invalid (as ``fit`` would raise it).

    Notes
    -----
    Warnings a plain fit raises at its end (the label-shift warning) are
    raised once per estimator, from the caller's line. One estimator is fitted
    exactly as its own ``fit`` fits it (CPU, one thread, bit for bit); with
    several, each copy's arithmetic is the plain fit's up to float rounding of
    the batched products.
    """
    if errors not in ("raise", "return"):
        raise ValueError(f'errors must be "raise" or "return", got {errors!r}.')
    estimators = list(estimators)
    if not estimators:
        raise ValueError("fit_batched needs at least one estimator.")
    keys = []
    for index, estimator in enumerate(estimators):
        reason = batching_reason(estimator)
        if reason is not None:
            raise ValueError(f"estimators[{index}] cannot be batched: {reason}.")
        keys.append(graph_key(estimator))
    for index, key in enumerate(keys):
        if key != keys[0]:
            raise ValueError(
                f"estimators[{index}] differs from estimators[0] in a parameter outside "
                f"PER_COPY_PARAMETERS {PER_COPY_PARAMETERS}: "
                f"{_differing(estimators[0], estimators[index])}."
            )
    outcomes = fit_outcomes(estimators, X, y, X_target, y_target, sample_domain, sample_weight)
    stacklevel = user_stacklevel()
    for outcome in outcomes:
        if not isinstance(outcome, BaseException):
            for warning in outcome[1]:
                warnings.warn(warning, stacklevel=stacklevel)
    if errors == "raise":
        for index, outcome in enumerate(outcomes):
            if isinstance(outcome, BaseException):
                raise type(outcome)(f"estimators[{index}]: {outcome}") from outcome
        return estimators
    return [o if isinstance(o, BaseException) else o[0] for o in outcomes]


def fit_outcomes(estimators, X, y, X_target, y_target, sample_domain, sample_weight):
    """Fit checked estimators together; per estimator ``(estimator, warnings)`` or the exception.

    The warnings (label shift) are returned, not raised, so a search can raise
    them when sklearn's own loop reaches that fit.
    """
    previous = [est._fitted_state() for est in estimators]
    try:
        results = _train_together(
            estimators, X, y, X_target, y_target, sample_domain, sample_weight
        )
    except BaseException:
        for est, state in zip(estimators, previous, strict=True):
            est._restore_fitted_state(state)
        raise
    outcomes = []
    for est, state, result in zip(estimators, previous, results, strict=True):
        if isinstance(result, BaseException):
            est._restore_fitted_state(state)
            outcomes.append(result)
            continue
        pending = result.pending_warnings_
        del result.pending_warnings_
        est._set_net(result)
        outcomes.append((est, pending))
    return outcomes


def _train_together(estimators, X, y, X_target, y_target, sample_domain, sample_weight):
    from ._batched import StackedTraining

    args = (X, y, X_target, y_target, sample_domain, sample_weight)
    plan = plan_fit(estimators[0], *args)
    # Each estimator is validated and planned as its own fit would be (fitted
    # attributes, seed); the rows are kept once.
    seeds = [plan.seed] + [plan_fit(est, *args).seed for est in estimators[1:]]
    first = estimators[0]
    with out_of_memory_hint(plan.device, plan.rows.X, plan.rows.is_target, first.batch_size):
        data = plan.domain_data()
        return StackedTraining(estimators, plan, seeds, plan.stratify).run(data)


def _differing(first, other):
    a, b = first.get_params(deep=False), other.get_params(deep=False)
    if type(first) is not type(other):
        return f"{type(first).__name__} against {type(other).__name__}"
    for name in a:
        if name not in PER_COPY_PARAMETERS and joblib.hash(a[name]) != joblib.hash(b[name]):
            return f"{name}={b[name]!r} against {a[name]!r}"
    return "?"
