"""DANN (Ganin & Lempitsky, 2015): a domain head behind a gradient reversal layer."""

import functools

import torch
import torch.nn.functional as F
from torch import nn

from .. import _module  # make_mlp; _module imports HeadSpec from this package
from .._grl import GradientReversal
from ._base import AdaptationTerms, Objective, domain_rows


class DANN(Objective):
    """The domain-adversarial objective of DANN (eq. 9 of the JMLR paper).

    A domain head reads the features through a gradient reversal layer
    whose coefficient is the scheduled adaptation weight. With two domains
    it ends in one logit (binary cross-entropy); with more, in one logit
    per domain (softmax), or with ``multi_domain_head="per_source"`` and
    one target domain in one binary logit per source domain.
    """

    reweights_domains = True

    def make_heads(self, spec):
        width = self.head_input_width(spec)
        sizes = spec.domain_hidden_layer_sizes
        body = _module.make_mlp(width, sizes, spec.activation)
        n_logits = domain_logit_count(spec)
        return {
            "grl": GradientReversal(0.0),
            "domain_head": nn.Sequential(body, nn.Linear(sizes[-1] if sizes else width, n_logits)),
        }

    def head_input_width(self, spec):
        """Width of what the domain head reads (the features, for DANN)."""
        return spec.n_features_out

    def head_input(self, module, reversed_features, step):
        """What the domain head reads and a per-row weight (``None``: unweighted)."""
        return reversed_features, None

    def adaptation_loss(self, module, features, step):
        module.grl.lambda_ = self.adaptation_weight_
        inputs, row_weight = self.head_input(module, module.grl(domain_rows(features, step)), step)
        logits = module.domain_head(inputs)
        if logits.shape[1] == 1:
            logits = logits.squeeze(1)
        weight = self._domain_weight(step, row_weight)
        labels = domain_labels(
            step.n_domains, step.n_per_domain, step.n_source, logits.device, logits.dtype
        )
        loss, correct = domain_loss(logits, labels, weight, step.n_domains)
        return AdaptationTerms(loss, loss, correct, len(logits))

    def _domain_weight(self, step, row_weight):
        weight = step.domain_weight
        if self.class_ratio_ is not None:  # importance-weighted (IWDAN): source rows by class
            factor = self.class_ratio_[step.source_y]
            n_target = step.n_domain_rows - step.n_source
            if weight is None:
                target = torch.ones(n_target, device=factor.device)
                weight = torch.cat([factor, target])
            else:
                weight = torch.cat([weight[: step.n_source] * factor, weight[step.n_source :]])
        if row_weight is not None:
            weight = row_weight if weight is None else weight * row_weight
        return weight


def domain_logit_count(spec):
    """Logits of the domain head: 1 for two domains, one per domain, or one per source."""
    n_domains = max(spec.n_source_domains + spec.n_target_domains, 2)
    if spec.multi_domain_head == "per_source" and n_domains > 2 and spec.n_target_domains:
        if spec.n_target_domains != 1:
            raise ValueError(
                'multi_domain_head="per_source" needs exactly one target domain; '
                f"sample_domain has {spec.n_target_domains}."
            )
        return spec.n_source_domains
    return 1 if n_domains == 2 else n_domains


@functools.lru_cache(maxsize=16)
def domain_labels(n_domains, n_per_domain, n_source, device, dtype):
    """Domain labels of a step, built once per layout.

    With two domains: float labels (0 source, 1 target) for a single logit
    and their signs (-1, +1). With more: the ``int64`` index of each row's
    domain, sources first, for a softmax over the domains.
    """
    if n_domains == 2:
        domain = torch.cat([torch.zeros(n_source), torch.ones(n_per_domain)]).to(device, dtype)
        return domain, 2.0 * domain - 1.0
    return torch.arange(n_domains, device=device).repeat_interleave(n_per_domain)


def domain_loss(logits, labels, weight=None, n_domains=2):
    """Domain criterion; returns the loss and the number of correct domain guesses."""
    if isinstance(labels, tuple):
        binary, signs = labels
        loss = F.binary_cross_entropy_with_logits(logits, binary, weight=weight)
        # A logit on the right side of 0 is a correct domain guess.
        return loss, (logits * signs > 0).sum()
    if logits.shape[1] == n_domains - 1:  # one binary head per source
        return per_source_domain_loss(logits, labels, weight)
    losses = F.cross_entropy(logits, labels, reduction="none")
    loss = losses.mean() if weight is None else (losses * weight).mean()
    return loss, (logits.argmax(dim=1) == labels).sum()


def per_source_domain_loss(logits, labels, weight=None):
    """Binary losses of "source s or target?" on source s's rows and the target rows."""
    n_sources = logits.shape[1]
    is_target = labels == n_sources
    heads = torch.arange(n_sources, device=logits.device)
    # Row i counts for head s when it is a target row or a row of source s.
    counts = is_target[:, None] | (labels[:, None] == heads[None, :])
    targets = is_target[:, None].expand_as(logits).to(logits.dtype)
    losses = F.binary_cross_entropy_with_logits(logits, targets, reduction="none")
    weights = counts.to(logits.dtype)
    if weight is not None:
        weights = weights * weight[:, None]
    loss = (losses * weights).sum() / counts.sum()
    correct = ((logits > 0) == is_target[:, None]) & counts
    per_row = correct.sum(dim=1).to(logits.dtype) / counts.sum(dim=1)
    return loss, per_row.sum()
