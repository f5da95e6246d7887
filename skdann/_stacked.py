"""K copies of the built-in network with stacked weights, run as one network.

Every ``nn.Linear`` of the copies becomes one :class:`StackedLinear` whose
weight has shape ``(K, out, in)``: a step of K copies is a few batched
matrix products instead of K small ones. Activations are ``(K, rows,
width)``. The network input is either shared by the copies (one batch of
rows, dense or CSR: the first layer is then one product against the
copies' concatenated weights) or one batch per copy (``(K, rows, in)``, or
a list of K CSR batches). The parameter names are the plain module's, so
copy ``k``'s ``state_dict`` is every stacked tensor's ``[k]``.

With K = 1 every layer computes exactly what the plain module computes (the
same torch operations on the same values), so a fit of one copy is bit for
bit the plain fit.
"""

import torch
import torch.nn.functional as F
from torch import nn

from ._grl import gradient_reversal
from ._module import SeededDropout

__all__ = ["StackedLinear", "StackedNetwork", "stacked_reversal"]


class StackedLinear(nn.Module):
    """K ``nn.Linear`` layers of the same shape, their weights stacked.

    Parameters
    ----------
    linears : list of torch.nn.Linear
        The copies' layers; their weights are copied, not shared.
    """

    def __init__(self, linears):
        super().__init__()
        self.weight = nn.Parameter(torch.stack([m.weight.detach() for m in linears]).clone())
        self.bias = nn.Parameter(torch.stack([m.bias.detach() for m in linears]).clone())

    def forward(self, x):
        weight, bias = self.weight, self.bias
        n_copies, n_out, n_in = weight.shape
        if isinstance(x, list):  # one CSR batch per copy
            # unbind, not weight[k]: each indexed slice's backward would write a zero
            # (K, out, in) gradient of its own (10x slower at K = 48 on 5,000 columns).
            weights, biases = weight.unbind(0), bias.unbind(0)
            return torch.stack(
                [torch.addmm(biases[k], x[k], weights[k].t()) for k in range(n_copies)]
            )
        shared = x.layout == torch.sparse_csr or x.ndim == 2
        if n_copies == 1:
            rows = x if shared else x[0]
            if rows.layout == torch.sparse_csr:
                return torch.addmm(bias[0], rows, weight[0].t()).unsqueeze(0)
            return F.linear(rows, weight[0], bias[0]).unsqueeze(0)
        if shared and x.layout == torch.sparse_csr:
            # One sparse product against the copies' concatenated weights.
            wide = torch.addmm(bias.reshape(-1), x, weight.reshape(n_copies * n_out, n_in).t())
            return wide.view(len(wide), n_copies, n_out).transpose(0, 1).contiguous()
        if shared:  # the rows, viewed once per copy (no copy of them is made)
            x = x.expand(n_copies, *x.shape)
        # Activations stay contiguous (K, rows, width): elementwise kernels on strided
        # views ran several times slower than the products themselves.
        return torch.baddbmm(bias.unsqueeze(1), x, weight.transpose(1, 2))


class StackedDropout(nn.Module):
    """Dropout with each copy's masks drawn from that copy's own generator.

    The generators are seeded as the copies' :class:`~skdann._module.SeededDropout`
    layers are, so each copy draws the masks its plain fit draws.
    """

    def __init__(self, layers):
        super().__init__()
        self.p = layers[0].p
        self.seeds = [layer.seed for layer in layers]
        self._generators = None

    def forward(self, x):
        if not self.training or self.p == 0:
            return x
        if self._generators is None:
            self._generators = [torch.Generator(x.device).manual_seed(s) for s in self.seeds]
        keep = torch.stack(
            [
                torch.empty_like(x[k]).bernoulli_(1.0 - self.p, generator=generator)
                for k, generator in enumerate(self._generators)
            ]
        )
        return x * keep / (1.0 - self.p)


def stack_layers(layers):
    """One stacked module for the same layer of K copies (recursing into ``Sequential``)."""
    first = layers[0]
    if isinstance(first, nn.Sequential):
        return nn.Sequential(*[stack_layers(group) for group in zip(*layers, strict=True)])
    if isinstance(first, nn.Linear):
        return StackedLinear(layers)
    if isinstance(first, SeededDropout):
        return StackedDropout(layers)
    if isinstance(first, nn.ReLU | nn.Tanh | nn.Sigmoid | nn.Identity):
        return type(first)()  # elementwise: the same on (K, rows, width)
    raise TypeError(f"a {type(first).__name__} layer cannot be stacked")


class StackedNetwork(nn.Module):
    """K copies of a :class:`~skdann.DANNModule` of the built-in MLP, stacked.

    Parameters
    ----------
    modules : list of DANNModule
        The copies, of one architecture: extractor, label head and, when the
        objective has them, ``grl`` and ``domain_head``.
    """

    def __init__(self, modules):
        super().__init__()
        self.n_copies = len(modules)
        self.feature_extractor = stack_layers([m.feature_extractor for m in modules])
        self.label_head = stack_layers([m.label_head for m in modules])
        if hasattr(modules[0], "domain_head"):
            self.domain_head = stack_layers([m.domain_head for m in modules])

    def copy_state(self, k):
        """Copy ``k``'s ``state_dict`` (views of the stacked tensors)."""
        return {name: tensor[k] for name, tensor in self.state_dict().items()}


def stacked_reversal(x, lambdas):
    """Gradient reversal of ``(K, rows, width)`` features, copy ``k`` by ``lambdas[k]``.

    Equal lambdas reverse with one Python number, as the plain layer does
    (so one copy is bit for bit the plain reversal); unequal ones with a
    ``(K, 1, 1)`` tensor.
    """
    if len(set(lambdas)) == 1:
        return gradient_reversal(x, lambdas[0])
    return gradient_reversal(
        x, torch.tensor(lambdas, dtype=x.dtype, device=x.device).view(-1, 1, 1)
    )
