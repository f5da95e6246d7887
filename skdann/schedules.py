"""Training schedules of the DANN paper and the callback that applies them.

Progress ``p`` runs linearly from 0 to 1 over all training steps
(``max_iter`` epochs). Ganin & Lempitsky (2015, section 4.2) ramp the
adversarial weight up as ``lambda * (2 / (1 + exp(-10 p)) - 1)`` to suppress
noisy domain gradients early on, and anneal the learning rate as
``mu0 / (1 + 10 p) ** 0.75``.
"""

import math

from skorch.callbacks import Callback

__all__ = [
    "ADVERSARIAL_SCHEDULES",
    "LEARNING_RATE_SCHEDULES",
    "StepSchedule",
    "constant_factor",
    "ganin_adversarial_factor",
    "ganin_learning_rate_factor",
    "resolve_schedule",
]


def ganin_adversarial_factor(p, gamma=10.0):
    """Ramp of the adversarial weight, ``2 / (1 + exp(-gamma p)) - 1``.

    Parameters
    ----------
    p : float
        Training progress in ``[0, 1]``.
    gamma : float, default=10.0
        Steepness of the ramp (10 in the paper).

    Returns
    -------
    float
        Factor in ``[0, 1)``: 0 at the start, about 0.9999 at the end.
    """
    return 2.0 / (1.0 + math.exp(-gamma * p)) - 1.0


def ganin_learning_rate_factor(p, alpha=10.0, beta=0.75):
    """Annealing of the learning rate, ``1 / (1 + alpha p) ** beta``.

    Parameters
    ----------
    p : float
        Training progress in ``[0, 1]``.
    alpha : float, default=10.0
        Decay speed (10 in the paper).
    beta : float, default=0.75
        Decay exponent (0.75 in the paper).

    Returns
    -------
    float
        Factor by which the initial learning rate is multiplied.
    """
    return 1.0 / (1.0 + alpha * p) ** beta


def constant_factor(p):
    """Constant schedule: the factor is 1 whatever the progress ``p``."""
    return 1.0


ADVERSARIAL_SCHEDULES = {"ganin": ganin_adversarial_factor, "constant": constant_factor}
"""Named schedules of the adversarial weight (``adversarial_schedule``)."""

LEARNING_RATE_SCHEDULES = {"ganin": ganin_learning_rate_factor, "constant": constant_factor}
"""Named schedules of the learning rate (``learning_rate_schedule``)."""


def resolve_schedule(schedule, named):
    """Return the factor function of a schedule given by name or as a callable."""
    return named[schedule] if isinstance(schedule, str) else schedule


class StepSchedule(Callback):
    """Set the adversarial weight and the learning rate before every step.

    Progress ``p`` runs from 0 to 1 over ``max_epochs`` epochs of the net;
    the number of steps in an epoch is the length of the net's own training
    iterator, read when training starts.

    Parameters
    ----------
    adversarial_weight : float, default=1.0
        Maximal adversarial weight ``lambda``.
    adversarial_schedule : {"ganin", "constant"} or callable, default="ganin"
        Maps progress ``p`` in ``[0, 1]`` to the factor applied to
        ``adversarial_weight``.
    learning_rate_schedule : {"ganin", "constant"} or callable, default="ganin"
        Maps progress ``p`` to the factor applied to the net's initial
        learning rate ``lr``.

    Attributes
    ----------
    total_steps_ : int
        Steps over which ``p`` goes from 0 to 1.
    step_ : int
        Steps taken so far.

    Notes
    -----
    The adaptation weight goes to the net's objective
    (``net.objective.adaptation_weight_``), which applies it: as the
    gradient reversal layer's coefficient for an adversarial objective, as
    the weight of its loss otherwise. The values in force at the end of each epoch are
    recorded in the history as ``adversarial_weight`` and ``learning_rate``.
    """

    def __init__(
        self,
        adversarial_weight=1.0,
        adversarial_schedule="ganin",
        learning_rate_schedule="ganin",
    ):
        self.adversarial_weight = adversarial_weight
        self.adversarial_schedule = adversarial_schedule
        self.learning_rate_schedule = learning_rate_schedule

    def initialize(self):
        self.step_ = 0
        self.total_steps_ = None
        self.current_adversarial_weight_ = 0.0
        self.current_learning_rate_ = None
        return self

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        if self.total_steps_ is None:
            steps_per_epoch = len(net.get_iterator(dataset_train, training=True))
            self.total_steps_ = steps_per_epoch * net.max_epochs
            self.adversarial_factor_ = resolve_schedule(
                self.adversarial_schedule, ADVERSARIAL_SCHEDULES
            )
            self.learning_rate_factor_ = resolve_schedule(
                self.learning_rate_schedule, LEARNING_RATE_SCHEDULES
            )

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        p = min(self.step_ / max(self.total_steps_, 1), 1.0)
        lam = self.adversarial_weight * float(self.adversarial_factor_(p))
        lr = net.lr * float(self.learning_rate_factor_(p))
        net.objective.adaptation_weight_ = lam
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        self.current_adversarial_weight_ = lam
        self.current_learning_rate_ = lr
        self.step_ += 1

    def on_epoch_end(self, net, **kwargs):
        net.history.record("adversarial_weight", self.current_adversarial_weight_)
        net.history.record("learning_rate", self.current_learning_rate_)
