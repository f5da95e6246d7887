"""The parameters every DANN estimator shares: their constraints and the optimizers."""

from numbers import Integral, Real

import torch
from sklearn.utils._param_validation import Interval, StrOptions

from .objectives import OBJECTIVES, Objective
from .schedules import ADVERSARIAL_SCHEDULES, LEARNING_RATE_SCHEDULES

OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}

SHARED_PARAMETER_CONSTRAINTS = {
    "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
    "activation": [StrOptions({"relu", "tanh", "logistic", "identity"})],
    "dropout": [Interval(Real, 0, 1, closed="left")],
    "alpha": [Interval(Real, 0, None, closed="left")],
    "domain_hidden_layer_sizes": [
        "array-like",
        Interval(Integral, 1, None, closed="left"),
    ],
    "adversarial_weight": [Interval(Real, 0, None, closed="left")],
    "adversarial_schedule": [StrOptions(set(ADVERSARIAL_SCHEDULES)), callable],
    "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
    "learning_rate_schedule": [StrOptions(set(LEARNING_RATE_SCHEDULES)), callable],
    "solver": [StrOptions(set(OPTIMIZERS))],
    "momentum": [Interval(Real, 0, 1, closed="both")],
    "batch_size": [Interval(Integral, 1, None, closed="left")],
    "max_iter": [Interval(Integral, 1, None, closed="left")],
    "tol": [Interval(Real, 0, None, closed="left")],
    "early_stopping": ["boolean"],
    "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
    "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
    "feature_extractor": [None, callable],
    "device": [str, torch.device],
    "random_state": ["random_state"],
    "verbose": ["verbose"],
    "callbacks": [None, list],
    "multi_domain_head": [StrOptions({"softmax", "per_source"})],
    "objective": [StrOptions(set(OBJECTIVES)), Objective],
}
