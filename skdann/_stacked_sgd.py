"""SGD with momentum over stacked parameters, each copy with its own rate and weight decay."""

import torch


class StackedSGD:
    """``torch.optim.SGD``'s update (no dampening, no Nesterov) for ``(K, ...)`` parameters.

    Copy ``k`` of every parameter (its slice ``[k]``) moves with its own
    learning rate and weight decay. Equal values across the copies take
    ``torch.optim.SGD``'s own operations with one Python number, so one copy
    updates bit for bit as the plain fit's optimizer; unequal ones multiply
    by a ``(K, 1, ...)`` tensor. A copy given rate 0 stays where it is.

    Parameters
    ----------
    params : list of torch.nn.Parameter
        The stacked parameters, copies along the first dimension.
    weight_decays : list of float
        Each copy's weight decay (``alpha``).
    momentum : float
        The momentum, shared by the copies.
    """

    def __init__(self, params, weight_decays, momentum):
        self.params = list(params)
        self.weight_decays = list(weight_decays)
        self.momentum = momentum
        self.momentum_buffers = [None] * len(self.params)

    def zero_grad(self):
        for param in self.params:
            param.grad = None

    @torch.no_grad()
    def step(self, rates):
        """Update every parameter; ``rates`` holds each copy's learning rate for this step."""
        decays = self.weight_decays
        uniform_decay = len(set(decays)) == 1
        uniform_rate = len(set(rates)) == 1
        # Per-copy values: one tensor per step, viewed to each parameter's shape.
        decay_values = rate_values = None
        for i, param in enumerate(self.params):
            grad = param.grad
            if grad is None:  # the domain head of a step without target rows
                continue
            if uniform_decay:
                if decays[0] != 0:  # in place: the gradient is dropped after the step
                    grad = grad.add_(param, alpha=decays[0])
            else:
                if decay_values is None:
                    decay_values = _per_copy(decays, param)
                grad = grad.addcmul_(_like(decay_values, param), param)
            if self.momentum != 0:
                buffer = self.momentum_buffers[i]
                if buffer is None:
                    buffer = self.momentum_buffers[i] = torch.clone(grad).detach()
                else:
                    buffer.mul_(self.momentum).add_(grad, alpha=1)
                grad = buffer
            if uniform_rate:
                param.add_(grad, alpha=-rates[0])
            else:
                if rate_values is None:
                    rate_values = _per_copy(rates, param)
                param.addcmul_(grad, _like(rate_values, param), value=-1)


def _per_copy(values, like):
    """``values`` (one per copy) as a 1-d tensor of ``like``'s dtype and device."""
    return torch.tensor(values, dtype=like.dtype, device=like.device)


def _like(values, param):
    """A view of per-copy ``values`` that broadcasts over the stacked ``param``."""
    return values.view((-1,) + (1,) * (param.ndim - 1))
