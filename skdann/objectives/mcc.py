"""MCC (Jin et al., ECCV 2020): minimum class confusion on the target's predictions."""

import torch
from sklearn.base import clone

from ._base import AdaptationTerms, Objective


class MCC(Objective):
    """Minimum class confusion, alone or added to an adversarial objective.

    On each step's target rows, the class probabilities at temperature
    ``temperature`` give a class-correlation matrix ``P^T W P`` (``W``
    weights rows by certainty, ``1 + exp(-H)``, normalised to mean 1); its
    rows are normalised to sum to 1 and the loss is the mass off the
    diagonal divided by the number of classes. Pushing it down makes the
    target's predictions confident without merging classes. The loss is
    multiplied by the scheduled adaptation weight.

    Classifiers only: class confusion needs class probabilities.

    Parameters
    ----------
    temperature : float, default=2.5
        Softmax temperature of the probabilities (above 1 softens them).
    entropy_weighting : bool, default=True
        Weight rows by certainty; ``False`` weights all rows equally.
    adversary : Objective or None, default=None
        An adversarial objective (:class:`~skdann.objectives.DANN`,
        :class:`~skdann.objectives.CDAN`) whose loss is added, or ``None``
        for MCC alone.
    """

    classifier_only = True

    def __init__(self, temperature=2.5, entropy_weighting=True, adversary=None):
        self.temperature = temperature
        self.entropy_weighting = entropy_weighting
        self.adversary = adversary

    @property
    def reweights_domains(self):
        return self.adversary is not None and self.adversary.reweights_domains

    def reset_state(self):
        super().reset_state()
        self.adversary_ = None if self.adversary is None else clone(self.adversary).reset_state()
        return self

    def make_heads(self, spec):
        return {} if self.adversary_ is None else self.adversary_.make_heads(spec)

    def adaptation_loss(self, module, features, step):
        target = features[step.n_source : step.n_domain_rows]
        confusion = class_confusion(
            module.label_head(target), self.temperature, self.entropy_weighting
        )
        loss = self.adaptation_weight_ * confusion
        if self.adversary_ is None:
            zero = torch.zeros((), device=loss.device)
            return AdaptationTerms(loss, zero, zero, 0)
        self.adversary_.adaptation_weight_ = self.adaptation_weight_
        self.adversary_.class_ratio_ = self.class_ratio_
        terms = self.adversary_.adaptation_loss(module, features, step)
        return terms._replace(loss=terms.loss + loss)


def class_confusion(logits, temperature=2.5, entropy_weighting=True):
    """The MCC loss of a batch of logits (a scalar tensor)."""
    proba = torch.softmax(logits / temperature, dim=1)
    if entropy_weighting:
        entropy = -(proba * torch.log(proba.clamp_min(1e-12))).sum(dim=1).detach()
        weight = 1.0 + torch.exp(-entropy)
        weight = len(proba) * weight / weight.sum()
        correlation = proba.t() @ (proba * weight[:, None])
    else:
        correlation = proba.t() @ proba
    correlation = correlation / correlation.sum(dim=1, keepdim=True)
    n_classes = proba.shape[1]
    return (correlation.sum() - correlation.trace()) / n_classes
