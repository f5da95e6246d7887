"""The one place that says which estimator the docs recommend for a table."""

__all__ = ["recommended_estimator"]


def recommended_estimator(task, **params):
    """Return the unfitted estimator the docs recommend for a table with a shift.

    The recipe is the guarded estimator
    (:class:`~skdann.ensemble.GuardedAdaptationClassifier` or
    :class:`~skdann.ensemble.GuardedAdaptationRegressor`) with the rule
    that ``benchmarks/guarded.py`` chose leaving each table family out, on
    21 shifted tables: ``"average_baselines"``, the mean of a linear model
    and gradient boosting trained on the source rows. Every rule that let
    DANN candidates in did worse there. For high-dimensional inputs with a
    covariate shift (text, image or sensor features), fit DANN itself (see
    the "When does DANN help?" page). Put it after your
    ``ColumnTransformer`` in a ``Pipeline`` fitted on the stacked rows
    (:func:`skdann.stack_domains`).

    Parameters
    ----------
    task : {"classification", "regression"}
        The kind of target.
    **params : dict
        Parameters of the estimator, overriding the recommended ones
        (for example ``random_state``).

    Returns
    -------
    GuardedAdaptationClassifier or GuardedAdaptationRegressor
        Unfitted.

    Examples
    --------
    >>> from skdann import recommended_estimator
    >>> recommended_estimator("regression", random_state=1).random_state
    1
    """
    from .ensemble import GuardedAdaptationClassifier, GuardedAdaptationRegressor

    classes = {
        "classification": GuardedAdaptationClassifier,
        "regression": GuardedAdaptationRegressor,
    }
    if task not in classes:
        raise ValueError(f'task must be "classification" or "regression"; got {task!r}.')
    return classes[task](**{**RECOMMENDED[task], **params})


# Chosen by benchmarks/guarded.py on all its table families (see its results).
RECOMMENDED = {
    "classification": {"rule": "average_baselines"},
    "regression": {"rule": "average_baselines"},
}
