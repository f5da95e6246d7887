"""The DANN network: feature extractor, label head and reversed domain head."""

import copy
from numbers import Integral

import torch
from torch import nn

from ._grl import GradientReversal

_ACTIVATIONS = {
    "relu": nn.ReLU,
    "tanh": nn.Tanh,
    "logistic": nn.Sigmoid,
    "identity": nn.Identity,
}


class SparseInputLinear(nn.Linear):
    """``nn.Linear`` that also takes a torch CSR tensor, as a sparse product.

    A batch of sparse rows (bag-of-words, one-hot codes) is multiplied
    without being densified: forward and backward cost O(nnz x out_features)
    instead of O(rows x in_features x out_features). Dense input goes
    through ``nn.Linear`` unchanged; parameters and state-dict keys are
    ``nn.Linear``'s.
    """

    def forward(self, input):
        if input.layout != torch.sparse_csr:
            return super().forward(input)
        if self.bias is None:
            return torch.sparse.mm(input, self.weight.t())
        return torch.addmm(self.bias, input, self.weight.t())


def make_mlp(n_inputs, hidden_layer_sizes, activation="relu", dropout=0.0, sparse_input=False):
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
    sparse_input : bool, default=False
        Make the first layer a :class:`SparseInputLinear`, which also takes
        a batch of sparse rows as a torch CSR tensor.

    Returns
    -------
    torch.nn.Sequential
        The network; its output width is the last hidden size, or
        ``n_inputs`` when there is no hidden layer.
    """
    layers = []
    width = n_inputs
    for index, size in enumerate(hidden_layer_sizes):
        linear = SparseInputLinear if sparse_input and index == 0 else nn.Linear
        layers += [linear(width, size), _ACTIVATIONS[activation]()]
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
    n_outputs : int
        Outputs of the label head: classes, or regression targets.
    domain_hidden_layer_sizes : sequence of int
        Hidden layers of the domain head.
    activation : str, default="relu"
        Activation of the domain head's hidden layers.
    n_domains : int, default=2
        Domains the domain head tells apart. With two, it ends in a single
        logit (positive means target) for ``BCEWithLogitsLoss``; with more,
        in one logit per domain for a softmax. A softmax over one output
        would be constant and pass no gradient.
    n_domain_logits : int, default=None
        Width of the domain head's output, when it is not the one
        ``n_domains`` implies: one logit per source domain (each telling
        that source from the target) gives ``n_domains - 1``.

    Notes
    -----
    ``forward`` returns the label head's output only, so inference needs no
    special path. ``forward_train`` runs the rows of all domains through
    the feature extractor in one pass and also returns the domain logits.
    """

    def __init__(
        self,
        feature_extractor,
        n_features_out,
        n_outputs,
        domain_hidden_layer_sizes,
        activation="relu",
        n_domains=2,
        n_domain_logits=None,
    ):
        super().__init__()
        if n_domains < 2:
            raise ValueError(f"n_domains must be at least 2, got {n_domains}.")
        self.feature_extractor = feature_extractor
        self.label_head = nn.Linear(n_features_out, n_outputs)
        self.grl = GradientReversal(0.0)
        domain_body = make_mlp(n_features_out, domain_hidden_layer_sizes, activation)
        domain_width = (
            domain_hidden_layer_sizes[-1] if domain_hidden_layer_sizes else n_features_out
        )
        if n_domain_logits is None:
            n_domain_logits = 1 if n_domains == 2 else n_domains
        self.domain_head = nn.Sequential(domain_body, nn.Linear(domain_width, n_domain_logits))

    def forward(self, X):
        """Return the label head's output for ``X``."""
        return self.label_head(self.feature_extractor(X))

    def forward_train(self, X, n_source):
        """Return the source rows' label outputs and the domain logits of all rows.

        Parameters
        ----------
        X : torch.Tensor
            The step's rows: ``n_source`` labeled source rows first, then
            the target rows.
        n_source : int
            Number of source rows; ``len(X)`` trains source-only.

        Returns
        -------
        label_output : torch.Tensor of shape (n_source, n_outputs)
        domain_logits : torch.Tensor or None
            Of shape ``(len(X),)`` with two domains (logit of "target"), of
            shape ``(len(X), n_domains)`` with more; computed through the
            gradient reversal layer. ``None`` without target rows.
        """
        if n_source == len(X):
            return self.forward(X), None
        features = self.feature_extractor(X)
        label_output = self.label_head(features[:n_source])
        domain_logits = self.domain_head(self.grl(features))
        if domain_logits.shape[1] == 1:
            domain_logits = domain_logits.squeeze(1)
        return label_output, domain_logits


def build_module(
    n_features,
    n_outputs,
    *,
    hidden_layer_sizes,
    activation,
    dropout,
    domain_hidden_layer_sizes,
    feature_extractor=None,
    n_domains=2,
    n_domain_logits=None,
):
    """Build a :class:`DANNModule` from an estimator's parameters.

    The feature extractor is the MLP of ``hidden_layer_sizes``, a deep copy
    of a ``feature_extractor`` module (the caller's is never trained) or
    the module a ``feature_extractor(n_features)`` factory returns. Its
    output width is probed with two rows of zeros.

    Returns
    -------
    DANNModule
    """
    if feature_extractor is None:
        sizes = layer_sizes(hidden_layer_sizes, "hidden_layer_sizes")
        extractor = make_mlp(n_features, sizes, activation, dropout, sparse_input=True)
    elif isinstance(feature_extractor, nn.Module):
        extractor = copy.deepcopy(feature_extractor)
    else:
        extractor = feature_extractor(n_features)
        if not isinstance(extractor, nn.Module):
            raise TypeError(
                "feature_extractor must be a torch.nn.Module or a callable "
                f"returning one; the callable returned {type(extractor).__name__}."
            )
    n_features_out = output_width(extractor, n_features)
    domain_sizes = layer_sizes(
        domain_hidden_layer_sizes, "domain_hidden_layer_sizes", allow_empty=True
    )
    return DANNModule(
        extractor,
        n_features_out,
        n_outputs,
        domain_sizes,
        activation,
        n_domains=n_domains,
        n_domain_logits=n_domain_logits,
    )


def domain_logit_count(multi_domain_head, n_source_domains, n_target_domains):
    """Width of the domain head when it is not the one ``n_domains`` implies, else ``None``.

    ``"per_source"`` with more than two domains gives one logit per source
    domain, each telling that source from the single target domain.
    """
    if multi_domain_head != "per_source" or n_source_domains + n_target_domains <= 2:
        return None
    if n_target_domains == 0:
        return None  # no target rows: no domain loss at all
    if n_target_domains != 1:
        raise ValueError(
            'multi_domain_head="per_source" needs exactly one target domain; '
            f"sample_domain has {n_target_domains}."
        )
    return n_source_domains


def layer_sizes(sizes, name, allow_empty=False):
    """Return ``sizes`` (an int or a sequence of ints) as a tuple of positive ints."""
    sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
    if not allow_empty and not sizes:
        raise ValueError(f"{name} must hold at least one layer size, got {sizes}.")
    if any(not isinstance(s, Integral) or s < 1 for s in sizes):
        raise ValueError(f"{name} must hold positive integers, got {sizes}.")
    return tuple(int(s) for s in sizes)


def output_width(extractor, n_features):
    """Run two rows of zeros through ``extractor`` and return its output width."""
    was_training = extractor.training
    extractor.eval()
    with torch.no_grad():
        out = extractor(torch.zeros(2, n_features))
    extractor.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            "feature_extractor must return a 2-D tensor of shape (n_samples, "
            f"n_features_out); for input of shape (2, {n_features}) it returned {shape}."
        )
    return out.shape[1]


def accepts_csr(module):
    """Whether ``module``'s feature extractor starts with a :class:`SparseInputLinear`."""
    extractor = getattr(module, "feature_extractor", None)
    return (
        isinstance(extractor, nn.Sequential)
        and len(extractor) > 0
        and isinstance(extractor[0], SparseInputLinear)
    )
