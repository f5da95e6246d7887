"""CDAN and CDAN+E (Long et al., NeurIPS 2018): a domain head conditioned on predictions."""

import math

import torch
from torch import nn

from .dann import DANN


class CDAN(DANN):
    """Conditional domain-adversarial objective.

    The domain head reads the multilinear map of the features and the
    (detached) class probabilities, ``f ⊗ g``, so the alignment matches
    the joint distribution of features and predictions instead of the
    features alone. Above ``max_map_dim`` outputs the map is randomized:
    ``(f R_f) * (g R_g) / sqrt(randomized_dim)`` with fixed Gaussian
    matrices (stored with the weights). CDAN+E weights each row's domain
    loss by ``1 + exp(-H(g))``, normalised to mean 1 within the source and
    within the target rows, so confident predictions count more.

    Classifiers only: the map needs class probabilities, which a regressor
    does not produce.

    Parameters
    ----------
    entropy_conditioning : bool, default=False
        Weight rows by prediction certainty (CDAN+E).
    max_map_dim : int, default=4096
        Largest ``n_features_out * n_classes`` mapped exactly.
    randomized_dim : int, default=1024
        Output width of the randomized map.
    """

    classifier_only = True

    def __init__(self, entropy_conditioning=False, max_map_dim=4096, randomized_dim=1024):
        self.entropy_conditioning = entropy_conditioning
        self.max_map_dim = max_map_dim
        self.randomized_dim = randomized_dim

    def _randomized(self, spec):
        return spec.n_features_out * spec.n_outputs > self.max_map_dim

    def head_input_width(self, spec):
        if self._randomized(spec):
            return self.randomized_dim
        return spec.n_features_out * spec.n_outputs

    def make_heads(self, spec):
        heads = super().make_heads(spec)
        if self._randomized(spec):
            heads["cdan_map"] = RandomizedMultilinearMap(
                spec.n_features_out, spec.n_outputs, self.randomized_dim
            )
        return heads

    def head_input(self, module, reversed_features, step):
        with torch.no_grad():
            proba = torch.softmax(module.label_head(reversed_features), dim=1)
        if hasattr(module, "cdan_map"):
            mapped = module.cdan_map(reversed_features, proba)
        else:
            mapped = torch.bmm(proba.unsqueeze(2), reversed_features.unsqueeze(1)).flatten(1)
        if not self.entropy_conditioning:
            return mapped, None
        entropy = -(proba * torch.log(proba.clamp_min(1e-12))).sum(dim=1)
        weight = 1.0 + torch.exp(-entropy)
        source, target = weight[: step.n_source], weight[step.n_source :]
        return mapped, torch.cat([source / source.mean(), target / target.mean()])


class RandomizedMultilinearMap(nn.Module):
    """``(f R_f) * (g R_g) / sqrt(d)``: an unbiased estimate of ``f ⊗ g``'s inner products.

    The random matrices are buffers: saved and moved with the module, never trained.
    """

    def __init__(self, n_features, n_classes, dim):
        super().__init__()
        self.register_buffer("feature_projection", torch.randn(n_features, dim))
        self.register_buffer("class_projection", torch.randn(n_classes, dim))
        self.scale = 1.0 / math.sqrt(dim)

    def forward(self, features, proba):
        return (features @ self.feature_projection) * (proba @ self.class_projection) * self.scale
