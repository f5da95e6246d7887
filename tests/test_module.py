import torch
import torch.nn.functional as F

from skdann import DANNModule, make_mlp


def _module(lambda_):
    torch.manual_seed(0)
    module = DANNModule(make_mlp(4, (8,)), 8, 3, (6,))
    module.grl.lambda_ = lambda_
    return module


def _domain_loss_grad(module, X_source, X_target):
    module.zero_grad()
    _, domain_logits = module.forward_train(torch.cat([X_source, X_target]), len(X_source))
    domain = torch.cat([torch.zeros(len(X_source)), torch.ones(len(X_target))])
    F.binary_cross_entropy_with_logits(domain_logits, domain).backward()
    first = module.feature_extractor[0].weight
    return first.grad.clone(), module.domain_head[-1].weight.grad.clone()


def test_domain_loss_sends_reversed_nonzero_gradient_into_feature_extractor():
    X_source, X_target = torch.randn(10, 4), torch.randn(10, 4) + 1.0
    reversed_grad, head_grad_reversed = _domain_loss_grad(_module(1.0), X_source, X_target)
    # The same loss "without reversal": a GRL of lambda -1 is the identity on gradients.
    plain_grad, head_grad_plain = _domain_loss_grad(_module(-1.0), X_source, X_target)
    assert reversed_grad.abs().sum() > 1e-4
    torch.testing.assert_close(reversed_grad, -plain_grad)
    # The domain head itself still minimises the domain loss: same gradient either way.
    assert head_grad_reversed.abs().sum() > 1e-4
    torch.testing.assert_close(head_grad_reversed, head_grad_plain)


def test_gradient_into_features_scales_with_lambda():
    X_source, X_target = torch.randn(10, 4), torch.randn(10, 4) + 1.0
    grad_one, _ = _domain_loss_grad(_module(1.0), X_source, X_target)
    grad_quarter, _ = _domain_loss_grad(_module(0.25), X_source, X_target)
    grad_zero, _ = _domain_loss_grad(_module(0.0), X_source, X_target)
    torch.testing.assert_close(grad_quarter, 0.25 * grad_one)
    assert torch.count_nonzero(grad_zero) == 0


def test_domain_head_outputs_one_logit_per_row_and_is_not_constant():
    module = _module(1.0)
    class_logits, domain_logits = module.forward_train(torch.randn(12, 4), 5)
    assert class_logits.shape == (5, 3)
    assert domain_logits.shape == (12,)
    assert domain_logits.std() > 0


def test_forward_returns_class_logits_and_source_only_has_no_domain_logits():
    module = _module(1.0)
    X = torch.randn(5, 4)
    torch.testing.assert_close(module(X), module.forward_train(X, 5)[0])
    assert module.forward_train(X, 5)[1] is None


def test_make_mlp_layout():
    mlp = make_mlp(4, (8, 5), activation="tanh", dropout=0.5)
    kinds = [type(layer).__name__ for layer in mlp]
    assert kinds == ["Linear", "Tanh", "Dropout", "Linear", "Tanh", "Dropout"]
    assert mlp(torch.randn(3, 4)).shape == (3, 5)


def test_several_domains_get_one_logit_each_and_a_reversed_gradient():
    torch.manual_seed(0)
    module = DANNModule(make_mlp(4, (8,)), 8, 2, (6,), n_domains=4)
    assert module.domain_head[-1].out_features == 4
    X = torch.randn(16, 4)
    labels = torch.arange(4).repeat_interleave(4)
    grads = []
    for lambda_ in (1.0, -1.0):
        module.zero_grad()
        module.grl.lambda_ = lambda_
        _, domain_logits = module.forward_train(X, 12)
        assert domain_logits.shape == (16, 4)
        F.cross_entropy(domain_logits, labels).backward()
        grads.append(module.feature_extractor[0].weight.grad.clone())
    assert grads[0].abs().sum() > 1e-4
    torch.testing.assert_close(grads[0], -grads[1])


def test_regression_head_has_one_output_per_target():
    module = DANNModule(make_mlp(4, (8,)), 8, 3, ())
    assert module(torch.randn(5, 4)).shape == (5, 3)
    assert module.domain_head[-1].in_features == 8
