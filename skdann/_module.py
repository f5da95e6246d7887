"""The DANN network: feature extractor, label head and reversed domain head."""

import torch
from torch import nn

from ._grl import GradientReversal

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


def make_mlp(n_inputs, hidden_layer_sizes, activation="relu", dropout=0.0):
    """Build a multilayer perceptron of ``Linear -> activation [-> Dropout]`` blocks.

    Parameters
    ----------
    n_inputs : int
        Number of input features.
    hidden_layer_sizes : sequence of int
        Width of each hidden layer; an empty sequence gives the identity.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation after every layer.
    dropout : float, default=0.0
        Dropout probability after every activation (no layer when 0).

    Returns
    -------
    torch.nn.Sequential
        The network; its output width is the last hidden size, or
        ``n_inputs`` when there is no hidden layer.
    """
    layers = []
    width = n_inputs
    for size in hidden_layer_sizes:
        layers += [nn.Linear(width, size), _ACTIVATIONS[activation]()]
        if dropout > 0:
            layers.append(nn.Dropout(dropout))
        width = size
    return nn.Sequential(*layers)


class DANNModule(nn.Module):
    """Feature extractor feeding a label head and, through a GRL, a domain head.

    Parameters
    ----------
    feature_extractor : torch.nn.Module
        Maps a batch of inputs to a 2-D tensor of features.
    n_features_out : int
        Width of the feature extractor's output.
    n_classes : int
        Number of classes of the label head.
    domain_hidden_layer_sizes : sequence of int
        Hidden layers of the domain head, which ends in a single logit.
    activation : str, default="relu"
        Activation of the domain head's hidden layers.

    Notes
    -----
    ``forward`` returns class logits only, so inference needs no special
    path. ``forward_train`` runs source and target rows through the feature
    extractor in one pass and also returns the domain logits (positive means
    target). The domain head ends in a logit for ``BCEWithLogitsLoss``: a
    softmax over one output would be constant and pass no gradient.
    """

    def __init__(
        self,
        feature_extractor,
        n_features_out,
        n_classes,
        domain_hidden_layer_sizes,
        activation="relu",
    ):
        super().__init__()
        self.feature_extractor = feature_extractor
        self.label_head = nn.Linear(n_features_out, n_classes)
        self.grl = GradientReversal(0.0)
        domain_body = make_mlp(n_features_out, domain_hidden_layer_sizes, activation)
        domain_width = (
            domain_hidden_layer_sizes[-1] if domain_hidden_layer_sizes else n_features_out
        )
        self.domain_head = nn.Sequential(domain_body, nn.Linear(domain_width, 1))

    def forward(self, X):
        """Return the class logits of ``X``."""
        return self.label_head(self.feature_extractor(X))

    def forward_train(self, X_source, X_target=None):
        """Return source class logits and domain logits of all rows.

        Parameters
        ----------
        X_source : torch.Tensor
            Labeled source rows.
        X_target : torch.Tensor or None
            Unlabeled target rows; ``None`` trains source-only.

        Returns
        -------
        class_logits : torch.Tensor of shape (n_source, n_classes)
        domain_logits : torch.Tensor of shape (n_source + n_target,) or None
            Logit of "this row is a target row", computed through the
            gradient reversal layer.
        """
        if X_target is None:
            return self.forward(X_source), None
        features = self.feature_extractor(torch.cat([X_source, X_target]))
        class_logits = self.label_head(features[: len(X_source)])
        domain_logits = self.domain_head(self.grl(features)).squeeze(1)
        return class_logits, domain_logits
