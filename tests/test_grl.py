import pytest
import torch

from skdann import GradientReversal, gradient_reversal


@pytest.mark.parametrize("lambda_", [0.0, 0.3, 1.0, 5.0])
def test_forward_is_identity_and_backward_is_minus_lambda_times_grad(lambda_):
    x = torch.randn(5, 3, requires_grad=True)
    upstream = torch.randn(5, 3)
    out = GradientReversal(lambda_)(x)
    assert torch.equal(out, x)
    out.backward(upstream)
    torch.testing.assert_close(x.grad, -lambda_ * upstream, rtol=0, atol=0)


def test_lambda_zero_passes_zero_gradient():
    x = torch.randn(4, requires_grad=True)
    gradient_reversal(x, 0.0).sum().backward()
    assert torch.count_nonzero(x.grad) == 0


def test_function_form_matches_module():
    x1 = torch.randn(6, requires_grad=True)
    x2 = x1.detach().clone().requires_grad_(True)
    (gradient_reversal(x1, 0.7) ** 2).sum().backward()
    (GradientReversal(0.7)(x2) ** 2).sum().backward()
    torch.testing.assert_close(x1.grad, x2.grad)
    torch.testing.assert_close(x1.grad, -0.7 * 2 * x1.detach())


def test_first_positional_argument_is_lambda_and_can_change():
    grl = GradientReversal(2.0)
    assert grl.lambda_ == 2.0
    grl.lambda_ = 0.5
    x = torch.ones(2, requires_grad=True)
    grl(x).sum().backward()
    torch.testing.assert_close(x.grad, torch.full((2,), -0.5))
    assert "lambda_=0.5" in repr(grl)


def test_a_tensor_lambda_reverses_each_slice_by_its_own_strength():
    x = torch.ones(2, 3, requires_grad=True)
    lambdas = torch.tensor([[0.5], [2.0]])
    gradient_reversal(x, lambdas).sum().backward()
    assert torch.equal(x.grad, torch.tensor([[-0.5] * 3, [-2.0] * 3]))
    assert lambdas.grad is None
