"""The label loss and the objectives' losses of K stacked copies, one value per copy.

Each function returns a ``(K,)`` tensor whose entry ``k`` is what copy
``k``'s plain fit computes for the same step; the batched fit
back-propagates their sum, which gives each copy its own gradient. With
one copy the plain functions run on the copy's tensors (so one copy is bit
for bit a plain fit); with more, the same formulas run vectorised over the
copies.
"""

from typing import NamedTuple

import torch
import torch.nn.functional as F

from .objectives import DANN, MCC, SourceOnly
from .objectives.dann import domain_labels, domain_loss, per_source_domain_loss
from .objectives.mcc import class_confusion


class StackedTerms(NamedTuple):
    """The objective's per-copy loss and the domain metrics of one step."""

    loss: torch.Tensor
    domain_loss: torch.Tensor
    domain_correct: torch.Tensor
    n_domain: int


def batched_objective(objective):
    """Whether the batched fit implements ``objective``; the reason when it does not."""
    kind = type(objective)
    if kind in (DANN, SourceOnly):
        return None
    if kind is MCC and (objective.adversary is None or type(objective.adversary) is DANN):
        return None
    return f"objective {kind.__name__} is not batched"


def _stack(values):
    return None if values[0] is None else torch.stack(values)


def label_losses(network, features, steps, criterion):
    """Each copy's label loss on its step's labeled rows."""
    step = steps[0]
    output = network.label_head(features[:, step.label_rows])
    if len(steps) == 1:
        return criterion(output[0], step.y, step.label_weight).unsqueeze(0)
    y = torch.stack([s.y for s in steps])
    weight = _stack([s.label_weight for s in steps])
    if criterion.loss == "cross_entropy":
        losses = F.cross_entropy(output.flatten(0, 1), y.flatten(0, 1), reduction="none")
        losses = losses.view(y.shape)
    elif criterion.loss == "squared_error":
        losses = F.mse_loss(output, y, reduction="none").mean(dim=2)
    else:
        losses = F.huber_loss(output, y, reduction="none", delta=criterion.huber_delta).mean(dim=2)
    return losses.mean(dim=1) if weight is None else (losses * weight).mean(dim=1)


def adaptation_losses(objective, network, features, steps, lambdas, reversal):
    """Each copy's adaptation loss (:class:`StackedTerms`), or ``None`` without one."""
    if isinstance(objective, SourceOnly):
        return None
    if isinstance(objective, MCC):
        confusion = _class_confusions(network, features, steps[0], objective)
        confusion = confusion * _weights(lambdas, confusion)
        if objective.adversary is None:
            zero = torch.zeros(len(steps), device=confusion.device)
            return StackedTerms(confusion, zero, zero, 0)
        terms = _domain_terms(network, features, steps, lambdas, reversal)
        return terms._replace(loss=terms.loss + confusion)
    return _domain_terms(network, features, steps, lambdas, reversal)


def _weights(lambdas, like):
    if len(lambdas) == 1:
        return float(lambdas[0])
    return torch.tensor(lambdas, dtype=like.dtype, device=like.device)


def _class_confusions(network, features, step, objective):
    """MCC's class confusion of each copy's target rows (``skdann.objectives.mcc``)."""
    logits = network.label_head(features[:, step.n_source : step.n_domain_rows])
    temperature, entropy_weighting = objective.temperature, objective.entropy_weighting
    if len(logits) == 1:
        return class_confusion(logits[0], temperature, entropy_weighting).unsqueeze(0)
    proba = torch.softmax(logits / temperature, dim=2)
    if entropy_weighting:
        entropy = -(proba * torch.log(proba.clamp_min(1e-12))).sum(dim=2).detach()
        weight = 1.0 + torch.exp(-entropy)
        weight = proba.shape[1] * weight / weight.sum(dim=1, keepdim=True)
        correlation = proba.transpose(1, 2) @ (proba * weight[..., None])
    else:
        correlation = proba.transpose(1, 2) @ proba
    correlation = correlation / correlation.sum(dim=2, keepdim=True)
    diagonal = correlation.diagonal(dim1=1, dim2=2).sum(dim=1)
    return (correlation.sum(dim=(1, 2)) - diagonal) / proba.shape[2]


def _domain_terms(network, features, steps, lambdas, reversal):
    """DANN's domain loss of each copy (``skdann.objectives.dann``)."""
    step = steps[0]
    rows = (
        features if step.n_domain_rows == features.shape[1] else features[:, : step.n_domain_rows]
    )
    logits = network.domain_head(reversal(rows, lambdas))
    weight = _stack([s.domain_weight for s in steps])
    labels = domain_labels(
        step.n_domains, step.n_per_domain, step.n_source, logits.device, logits.dtype
    )
    n_rows = logits.shape[1]
    if len(steps) == 1:
        single = logits[0].squeeze(1) if logits.shape[2] == 1 else logits[0]
        loss, correct = domain_loss(
            single, labels, None if weight is None else weight[0], step.n_domains
        )
        return StackedTerms(
            loss.unsqueeze(0), loss.detach().unsqueeze(0), correct.unsqueeze(0), n_rows
        )
    if isinstance(labels, tuple):
        binary, signs = labels
        logits = logits.squeeze(2)
        losses = F.binary_cross_entropy_with_logits(
            logits, binary.expand_as(logits), reduction="none"
        )
        loss = losses.mean(dim=1) if weight is None else (losses * weight).mean(dim=1)
        correct = (logits * signs > 0).sum(dim=1)
    elif logits.shape[2] == step.n_domains - 1:  # one binary head per source
        pairs = [
            per_source_domain_loss(logits[k], labels, None if weight is None else weight[k])
            for k in range(len(steps))
        ]
        loss = torch.stack([p[0] for p in pairs])
        correct = torch.stack([p[1] for p in pairs])
    else:
        n_logits = logits.shape[2]
        losses = F.cross_entropy(
            logits.flatten(0, 1), labels.repeat(len(steps)), reduction="none"
        ).view(len(steps), n_rows)
        loss = losses.mean(dim=1) if weight is None else (losses * weight).mean(dim=1)
        correct = (logits.view(-1, n_rows, n_logits).argmax(dim=2) == labels).sum(dim=1)
    return StackedTerms(loss, loss.detach(), correct, n_rows)
