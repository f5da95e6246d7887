"""Adaptation objectives: what the network learns from the target rows.

An objective owns its heads, the loss it adds to the label loss at every
step and its own state during training; the estimators take one as
``objective=`` (a name below, or an instance to set its parameters). Adding
one is a new file with an :class:`Objective` subclass and one line in
``OBJECTIVES``.
"""

from functools import partial

from sklearn.base import clone

from ._base import AdaptationTerms, HeadSpec, Objective
from .cdan import CDAN
from .dann import DANN
from .mcc import MCC
from .none import SourceOnly

OBJECTIVES = {
    "dann": DANN,
    "cdan": CDAN,
    "cdan+e": partial(CDAN, entropy_conditioning=True),
    "mcc": MCC,
    "dann+mcc": lambda: MCC(adversary=DANN()),
    "cdan+mcc": lambda: MCC(adversary=CDAN()),
    "none": SourceOnly,
}


def objective_classes():
    """The objective classes by class name (what model files store)."""
    classes = {}
    for factory in OBJECTIVES.values():
        objective = factory()
        classes[type(objective).__name__] = type(objective)
    return classes


def resolve_objective(objective, estimator_name, regression=False):
    """A fresh, stateless copy of ``objective`` (a name or an instance) for one fit."""
    if isinstance(objective, str):
        if objective not in OBJECTIVES:
            raise ValueError(
                f"objective={objective!r} is not an objective; use one of "
                f"{sorted(OBJECTIVES)} or an skdann.objectives.Objective instance."
            )
        objective = OBJECTIVES[objective]()
    if not isinstance(objective, Objective):
        raise TypeError(
            "objective must be a name or an skdann.objectives.Objective instance, got "
            f"{type(objective).__name__}."
        )
    if regression and _classifier_only(objective):
        raise ValueError(
            f"objective {type(objective).__name__} reads class probabilities, which "
            f"{estimator_name} does not have; use 'dann' or 'none'."
        )
    return clone(objective).reset_state()


def _classifier_only(objective):
    nested = [v for v in objective.get_params(deep=False).values() if isinstance(v, Objective)]
    return objective.classifier_only or any(_classifier_only(v) for v in nested)


__all__ = [
    "AdaptationTerms",
    "CDAN",
    "DANN",
    "HeadSpec",
    "MCC",
    "OBJECTIVES",
    "Objective",
    "SourceOnly",
    "resolve_objective",
]
