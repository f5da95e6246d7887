"""The network: feature extractor, label head and the adaptation objective's heads."""

import copy
from numbers import Integral

import torch
from torch import nn

from .objectives._base import HeadSpec

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


class SeededDropout(nn.Dropout):
    """``nn.Dropout`` whose masks come from its own generator, not torch's global one.

    Fits in several threads of one process (joblib's threading backend, Dask
    workers with several threads) share torch's global generator, so masks
    drawn from it depend on how the threads interleave. Each layer here
    draws from a generator seeded by :func:`seed_dropout` (from the fit's
    ``random_state``), created on the first batch's device. Unseeded, it is
    ``nn.Dropout``. State-dict keys are ``nn.Dropout``'s (it has none).
    """

    seed = None

    def forward(self, input):
        if not self.training or self.p == 0 or self.seed is None:
            return super().forward(input)
        generators = self.__dict__.setdefault("_generators", {})
        if input.device not in generators:
            generators[input.device] = torch.Generator(input.device).manual_seed(self.seed)
        keep = torch.empty_like(input).bernoulli_(1.0 - self.p, generator=generators[input.device])
        return input * keep / (1.0 - self.p)


def seed_dropout(module, seed):
    """Give every :class:`SeededDropout` of ``module`` its own seed derived from ``seed``."""
    layers = [m for m in module.modules() if isinstance(m, SeededDropout)]
    for index, layer in enumerate(layers):
        layer.seed = int(seed) * 1009 + index
        layer.__dict__.pop("_generators", None)
    return module


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
            layers.append(SeededDropout(dropout))
        width = size
    return nn.Sequential(*layers)


class DANNModule(nn.Module):
    """Feature extractor feeding a label head, plus the heads of an adaptation objective.

    Parameters
    ----------
    feature_extractor : torch.nn.Module
        Maps a batch of inputs to a 2-D tensor of features.
    label_head : torch.nn.Module
        Maps the features to class logits or regression outputs.
    heads : dict of str to torch.nn.Module, default=None
        The objective's modules (for DANN: ``grl``, the gradient reversal
        layer, and ``domain_head``), registered as attributes of these names
        so they train, move and save with the network.

    Notes
    -----
    ``forward`` returns the label head's output only, so inference needs no
    special path; the training step runs the heads through the objective
    (:mod:`skdann.objectives`).
    """

    def __init__(self, feature_extractor, label_head, heads=None):
        super().__init__()
        self.feature_extractor = feature_extractor
        self.label_head = label_head
        for name, head in (heads or {}).items():
            self.add_module(name, head)

    def forward(self, X):
        """Return the label head's output for ``X``."""
        return self.label_head(self.feature_extractor(X))


def build_module(
    n_features,
    n_outputs,
    objective,
    *,
    hidden_layer_sizes,
    activation,
    dropout,
    domain_hidden_layer_sizes,
    feature_extractor=None,
    n_source_domains=1,
    n_target_domains=1,
    multi_domain_head="softmax",
):
    """Build a :class:`DANNModule` from an estimator's parameters and its objective.

    The feature extractor is the MLP of ``hidden_layer_sizes``, a deep copy
    of a ``feature_extractor`` module (the caller's is never trained) or
    the module a ``feature_extractor(n_features)`` factory returns. Its
    output width is probed with two rows of zeros. The label head is built
    next, then the objective's heads (:meth:`Objective.make_heads`).

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
    label_head = nn.Linear(n_features_out, n_outputs)
    spec = HeadSpec(
        n_features_out,
        n_outputs,
        n_source_domains,
        n_target_domains,
        layer_sizes(domain_hidden_layer_sizes, "domain_hidden_layer_sizes", allow_empty=True),
        activation,
        multi_domain_head,
    )
    return DANNModule(extractor, label_head, objective.make_heads(spec))


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
