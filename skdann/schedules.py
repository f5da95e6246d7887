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
    "StepSchedule",
    "constant_factor",
    "ganin_adversarial_factor",
    "ganin_learning_rate_factor",
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


class StepSchedule(Callback):
    """Set the adversarial weight and the learning rate before every step.

    Parameters
    ----------
    adversarial_weight : float
        Maximal adversarial weight ``lambda``.
    adversarial_factor : callable
        Maps progress ``p`` in ``[0, 1]`` to the factor applied to
        ``adversarial_weight``.
    learning_rate : float
        Initial learning rate ``mu0``.
    learning_rate_factor : callable
        Maps progress ``p`` to the factor applied to ``learning_rate``.
    total_steps : int
        Number of training steps over which ``p`` goes from 0 to 1.

    Notes
    -----
    The net's module must expose the gradient reversal layer as
    ``module_.grl``. The values in force at the end of each epoch are
    recorded in the history as ``adversarial_weight`` and ``learning_rate``.
    """

    def __init__(
        self,
        adversarial_weight,
        adversarial_factor,
        learning_rate,
        learning_rate_factor,
        total_steps,
    ):
        self.adversarial_weight = adversarial_weight
        self.adversarial_factor = adversarial_factor
        self.learning_rate = learning_rate
        self.learning_rate_factor = learning_rate_factor
        self.total_steps = total_steps

    def initialize(self):
        self.step_ = 0
        self.current_adversarial_weight_ = 0.0
        self.current_learning_rate_ = self.learning_rate
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if not training:
            return
        p = min(self.step_ / max(self.total_steps, 1), 1.0)
        lam = self.adversarial_weight * float(self.adversarial_factor(p))
        lr = self.learning_rate * float(self.learning_rate_factor(p))
        net.module_.grl.lambda_ = lam
        for group in net.optimizer_.param_groups:
            group["lr"] = lr
        self.current_adversarial_weight_ = lam
        self.current_learning_rate_ = lr
        self.step_ += 1

    def on_epoch_end(self, net, **kwargs):
        net.history.record("adversarial_weight", self.current_adversarial_weight_)
        net.history.record("learning_rate", self.current_learning_rate_)
