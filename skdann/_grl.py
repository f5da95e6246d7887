"""Gradient reversal layer (Ganin & Lempitsky 2015, eq. 7-8).

On the forward pass the layer is the identity. On the backward pass it
multiplies the incoming gradient by ``-lambda_``, so the layers before it
*maximise* the loss of the layers after it. It has no parameters.
"""

import torch
from torch import nn

__all__ = ["GradientReversal", "gradient_reversal"]


class _GradientReversalFunction(torch.autograd.Function):
    """Autograd function: identity forward, ``-lambda_ * grad`` backward."""

    @staticmethod
    def forward(ctx, x, lambda_):
        ctx.lambda_ = lambda_ if torch.is_tensor(lambda_) else float(lambda_)
        # ``view_as`` returns a new tensor object so autograd records the op.
        return x.view_as(x)

    @staticmethod
    def backward(ctx, grad_output):
        # No gradient flows to ``lambda_``: it is a hyperparameter.
        return grad_output.mul(-ctx.lambda_), None


def gradient_reversal(x, lambda_=1.0):
    """Apply gradient reversal to a tensor.

    Parameters
    ----------
    x : torch.Tensor
        Input tensor, returned unchanged on the forward pass.
    lambda_ : float or torch.Tensor, default=1.0
        Strength of the reversal. The backward pass multiplies the incoming
        gradient by ``-lambda_``; ``lambda_=0`` blocks the gradient. A tensor
        broadcasts against ``x`` (one strength per slice, e.g. per stacked
        copy of a network); it gets no gradient either.

    Returns
    -------
    torch.Tensor
        A tensor equal to ``x``.

    Examples
    --------
    >>> import torch
    >>> from skdann import gradient_reversal
    >>> x = torch.ones(3, requires_grad=True)
    >>> gradient_reversal(x, 0.5).sum().backward()
    >>> x.grad
    tensor([-0.5000, -0.5000, -0.5000])
    """
    return _GradientReversalFunction.apply(x, lambda_)


class GradientReversal(nn.Module):
    """Gradient reversal layer as a :class:`torch.nn.Module`.

    Parameters
    ----------
    lambda_ : float, default=1.0
        Strength of the reversal. Forward is the identity; backward
        multiplies the gradient by ``-lambda_``. The attribute may be changed
        between steps, which is how :class:`~skdann.DANNClassifier` applies
        its adversarial schedule.

    See Also
    --------
    gradient_reversal : The same operation as a function.

    Examples
    --------
    >>> import torch
    >>> from skdann import GradientReversal
    >>> grl = GradientReversal(2.0)
    >>> x = torch.ones(2, requires_grad=True)
    >>> grl(x).sum().backward()
    >>> x.grad
    tensor([-2., -2.])
    """

    def __init__(self, lambda_=1.0):
        super().__init__()
        self.lambda_ = lambda_

    def forward(self, x):
        """Return ``x``; reverse and scale its gradient on the way back."""
        return gradient_reversal(x, self.lambda_)

    def extra_repr(self):
        return f"lambda_={self.lambda_}"
