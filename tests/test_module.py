"""The network and the objectives' heads: shapes, and the reversed gradient that flows."""

import pytest
import torch

from skdann import DANNModule, make_mlp
from skdann._batches import Step
from skdann._module import build_module
from skdann.objectives import CDAN, DANN, MCC, SourceOnly


def _module(objective, n_outputs=3, n_sources=1, n_targets=1, **kwargs):
    torch.manual_seed(0)
    params = {"hidden_layer_sizes": (8,), "domain_hidden_layer_sizes": (6,), **kwargs}
    return build_module(
        4,
        n_outputs,
        objective.reset_state(),
        activation="relu",
        dropout=0.0,
        n_source_domains=n_sources,
        n_target_domains=n_targets,
        **params,
    )


def _step(n_per, n_sources=1, n_domains=2):
    n_source = n_per * n_sources
    return Step(
        torch.zeros(n_source, dtype=torch.int64),
        slice(0, n_source),
        n_source,
        n_per * n_domains,
        n_per,
        n_sources,
        n_domains,
    )


def _adaptation_grad(objective, module, X, step, lambda_):
    module.zero_grad()
    objective.adaptation_weight_ = lambda_
    features = module.feature_extractor(X)
    objective.adaptation_loss(module, features, step).loss.backward()
    first = module.feature_extractor[0].weight
    head = module.domain_head[-1].weight.grad.clone() if hasattr(module, "domain_head") else None
    return first.grad.clone(), head


@pytest.mark.parametrize("objective", [DANN(), CDAN(), CDAN(entropy_conditioning=True)])
def test_domain_loss_sends_reversed_nonzero_gradient_into_feature_extractor(objective):
    module = _module(objective)
    X = torch.cat([torch.randn(10, 4), torch.randn(10, 4) + 1.0])
    reversed_grad, head_reversed = _adaptation_grad(objective, module, X, _step(10), 1.0)
    # The same loss "without reversal": a GRL of lambda -1 is the identity on gradients.
    plain_grad, head_plain = _adaptation_grad(objective, module, X, _step(10), -1.0)
    assert reversed_grad.abs().sum() > 1e-4
    torch.testing.assert_close(reversed_grad, -plain_grad)
    # The domain head itself still minimises the domain loss: same gradient either way.
    assert head_reversed.abs().sum() > 1e-4
    torch.testing.assert_close(head_reversed, head_plain)


def test_gradient_into_features_scales_with_lambda():
    objective = DANN()
    module = _module(objective)
    X = torch.cat([torch.randn(10, 4), torch.randn(10, 4) + 1.0])
    grad_one, _ = _adaptation_grad(objective, module, X, _step(10), 1.0)
    grad_quarter, _ = _adaptation_grad(objective, module, X, _step(10), 0.25)
    grad_zero, _ = _adaptation_grad(objective, module, X, _step(10), 0.0)
    torch.testing.assert_close(grad_quarter, 0.25 * grad_one)
    assert torch.count_nonzero(grad_zero) == 0


def test_mcc_pulls_target_predictions_apart_and_scales_with_lambda():
    objective = MCC()
    module = _module(objective)
    X = torch.cat([torch.randn(10, 4), torch.randn(10, 4) + 1.0])
    grad_one, head = _adaptation_grad(objective, module, X, _step(10), 1.0)
    grad_half, _ = _adaptation_grad(objective, module, X, _step(10), 0.5)
    assert head is None and grad_one.abs().sum() > 1e-6
    torch.testing.assert_close(grad_half, 0.5 * grad_one)
    # Minimising it lowers the class confusion of the target rows.
    before = objective.adaptation_loss(module, module.feature_extractor(X), _step(10)).loss
    optimizer = torch.optim.SGD(module.parameters(), lr=0.5)
    for _ in range(30):
        optimizer.zero_grad()
        features = module.feature_extractor(X)
        objective.adaptation_loss(module, features, _step(10)).loss.backward()
        optimizer.step()
    after = objective.adaptation_loss(module, module.feature_extractor(X), _step(10)).loss
    assert after < before


def test_domain_head_outputs_one_logit_per_row_and_is_not_constant():
    module = _module(DANN())
    features = module.feature_extractor(torch.randn(12, 4))
    logits = module.domain_head(module.grl(features))
    assert module(torch.randn(5, 4)).shape == (5, 3)
    assert logits.shape == (12, 1) and logits.std() > 0


def test_source_only_has_no_heads_and_no_adaptation_loss():
    objective = SourceOnly()
    module = _module(objective)
    assert set(dict(module.named_children())) == {"feature_extractor", "label_head"}
    assert objective.adaptation_loss(module, torch.randn(4, 8), _step(2)) is None


def test_cdan_map_is_exact_below_the_threshold_and_randomized_above():
    exact = _module(CDAN(), n_outputs=3)
    assert exact.domain_head[0][0].in_features == 8 * 3 and not hasattr(exact, "cdan_map")
    randomized = _module(CDAN(max_map_dim=16, randomized_dim=32), n_outputs=3)
    assert randomized.domain_head[0][0].in_features == 32
    # The random projections are buffers: saved with the weights, never trained.
    assert "cdan_map.feature_projection" in randomized.state_dict()
    assert "cdan_map.feature_projection" not in dict(randomized.named_parameters())


def test_make_mlp_layout():
    mlp = make_mlp(4, (8, 5), activation="tanh", dropout=0.5)
    kinds = [type(layer).__name__ for layer in mlp]
    assert kinds == ["Linear", "Tanh", "SeededDropout", "Linear", "Tanh", "SeededDropout"]
    assert mlp(torch.randn(3, 4)).shape == (3, 5)


def test_several_domains_get_one_logit_each_and_a_reversed_gradient():
    objective = DANN()
    module = _module(objective, n_outputs=2, n_sources=3, n_targets=1)
    assert module.domain_head[-1].out_features == 4
    X = torch.randn(16, 4)
    grads = [
        _adaptation_grad(objective, module, X, _step(4, 3, 4), lambda_)[0]
        for lambda_ in (1.0, -1.0)
    ]
    assert grads[0].abs().sum() > 1e-4
    torch.testing.assert_close(grads[0], -grads[1])


def test_regression_head_has_one_output_per_target():
    module = _module(DANN(), n_outputs=3, domain_hidden_layer_sizes=())
    assert module(torch.randn(5, 4)).shape == (5, 3)
    assert module.domain_head[-1].in_features == 8
    assert isinstance(module, DANNModule)
