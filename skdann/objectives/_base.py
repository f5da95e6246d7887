"""What every adaptation objective is: its heads, its loss on a step, its state."""

from typing import Any, NamedTuple

import torch
from sklearn.base import BaseEstimator


class HeadSpec(NamedTuple):
    """What an objective needs to know to build its heads.

    Everything here follows from the estimator's parameters and the data
    seen at fit, so a model file rebuilds the same heads from its config.
    """

    n_features_out: int
    n_outputs: int
    n_source_domains: int
    n_target_domains: int
    domain_hidden_layer_sizes: tuple
    activation: str
    multi_domain_head: str


class AdaptationTerms(NamedTuple):
    """An objective's contribution to one training step.

    ``loss`` is added to the label loss and back-propagated; the other
    terms are recorded in the history (``train_domain_loss`` and
    ``train_domain_accuracy`` over ``n_domain`` rows; 0 rows for an
    objective without a domain head).
    """

    loss: torch.Tensor
    domain_loss: Any
    domain_correct: Any
    n_domain: int


class Objective(BaseEstimator):
    """Base class of adaptation objectives; a subclass is one method.

    An objective is a parameter of the estimators (``objective=...``):
    cloned with them, searched by ``GridSearchCV`` (``objective__<param>``)
    and stored in model files through ``get_params``. During a fit the
    estimator trains a clone of it, whose state lives in attributes ending
    in ``_``.

    Subclasses set ``classifier_only`` (the objective reads class
    probabilities) and ``reweights_domains`` (it has a domain loss that
    ``label_shift="iwdan"`` can weight by class), and implement
    ``make_heads`` and ``adaptation_loss``.

    Attributes
    ----------
    adaptation_weight_ : float
        The current adaptation weight ``lambda``, set before every step by
        the estimator's schedule (``adversarial_weight`` times the
        schedule's factor).
    class_ratio_ : torch.Tensor or None
        Per-class factor on the source rows' domain loss (target over
        source class proportion), set during training by
        :class:`~skdann.label_shift.ClassRatioEstimator`.
    """

    classifier_only = False
    reweights_domains = False

    def reset_state(self):
        """Forget the state of a previous training run (called when a net initialises)."""
        self.adaptation_weight_ = 0.0
        self.class_ratio_ = None
        return self

    def make_heads(self, spec):
        """Return the objective's modules, by name, in construction order.

        The estimator registers each as an attribute of its
        :class:`~skdann.DANNModule` (so they train, move to the device and
        are saved with it). Parameters are initialised here, from torch's
        random state, right after the label head.
        """
        return {}

    def adaptation_loss(self, module, features, step):
        """Return the :class:`AdaptationTerms` of one step, or ``None`` for no adaptation.

        Parameters
        ----------
        module : DANNModule
            The network, with the heads of :meth:`make_heads` as attributes.
        features : torch.Tensor
            The feature extractor's output for the step's rows: the domain
            rows first (``step.n_source`` source rows, then target rows),
            then any labeled target rows drawn for the label loss.
        step : skdann._batches.Step
            The step's layout, targets and weights.
        """
        raise NotImplementedError


def domain_rows(features, step):
    """The features of the step's domain rows (all rows when there are no extra ones)."""
    return features if step.n_domain_rows == len(features) else features[: step.n_domain_rows]
