"""Label-shift estimation, importance-weighted DANN and the label-shift warning."""

import re
import warnings

import numpy as np
import pytest
import torch
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import cross_validate
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, stack_domains
from skdann._batches import BalancedDomainBatches
from skdann.label_shift import (
    LabelShiftWarning,
    check_label_shift,
    estimate_target_proportions,
    total_variation,
)
from skdann.model_selection import DomainStratifiedKFold
from skdann.objectives import DANN
from tests._domain_data import domain_data

TRUE_TARGET = np.array([0.6, 0.3, 0.1])


def _gaussian_classes(proportions, n, rng, spread=2.0):
    """Three Gaussian classes in 2-D with the given proportions (same p(x|y) in each domain)."""
    y = rng.choice(3, size=n, p=proportions)
    centres = np.array([[0.0, 0.0], [spread, 0.0], [0.0, spread]])
    return centres[y] + rng.normal(size=(n, 2)), y


@pytest.fixture(scope="module")
def shifted_predictions():
    rng = np.random.default_rng(0)
    X_fit, y_fit = _gaussian_classes([1 / 3] * 3, 3000, rng)
    X_held, y_held = _gaussian_classes([1 / 3] * 3, 3000, rng)
    X_target, y_target = _gaussian_classes(TRUE_TARGET, 3000, rng)
    model = LogisticRegression().fit(X_fit, y_fit)
    realised = np.bincount(y_target) / len(y_target)  # the sample's own proportions
    return (model.predict_proba(X_held), y_held, model.predict_proba(X_target)), realised


@pytest.mark.parametrize(("method", "error"), [("em", 0.03), ("bbse", 0.03)])
def test_estimation_recovers_known_proportions(shifted_predictions, method, error):
    # Stated error: within 0.03 of each of the target sample's class proportions, with
    # 3000 held-out source rows and 3000 target rows.
    predictions, realised = shifted_predictions
    estimate = estimate_target_proportions(*predictions, method=method)
    assert estimate.sum() == pytest.approx(1.0) and (estimate >= 0).all()
    np.testing.assert_allclose(estimate, realised, atol=error)
    # The naive estimate (the mean prediction) is biased towards the source's proportions.
    naive = predictions[2].mean(axis=0)
    assert np.abs(naive - realised).max() > np.abs(estimate - realised).max()


def test_estimation_without_shift_stays_at_the_source_proportions():
    rng = np.random.default_rng(1)
    X, y = _gaussian_classes([1 / 3] * 3, 4000, rng)
    model = LogisticRegression().fit(X[:2000], y[:2000])
    proba = model.predict_proba(X[2000:])
    estimate = estimate_target_proportions(proba[:1000], y[2000:3000], proba[1000:])
    # 1000 rows a side: within 0.06 in total variation (measured: 0.04).
    assert total_variation(estimate, np.bincount(y[3000:]) / 1000) < 0.06


def test_estimation_rejects_mismatched_inputs():
    with pytest.raises(
        ValueError, match=re.escape("source_proba has 2 classes and target_proba 3")
    ):
        estimate_target_proportions(np.ones((4, 2)) / 2, [0, 1, 0, 1], np.ones((4, 3)) / 3)
    with pytest.raises(
        ValueError, match=re.escape("source_labels has 3 rows and source_proba 4.")
    ):
        estimate_target_proportions(np.ones((4, 2)) / 2, [0, 1, 0], np.ones((4, 2)) / 2)
    with pytest.raises(ValueError, match=re.escape('method must be "em" or "bbse", got \'x\'.')):
        estimate_target_proportions(np.ones((4, 2)) / 2, [0, 1, 0, 1], np.ones((4, 2)) / 2, "x")
    assert total_variation([0.5, 0.5], [0.9, 0.1]) == pytest.approx(0.4)


def test_class_ratio_weights_each_source_rows_domain_loss():
    X = torch.arange(16, dtype=torch.float32).reshape(8, 2)
    y = torch.tensor([0, 1, 0, 1, 0, 1, 0, 1])
    data = domain_data(X, y, X + 100)
    objective = DANN().reset_state()
    objective.class_ratio_ = torch.tensor([0.5, 3.0])
    batches = BalancedDomainBatches(data, 4, torch.Generator().manual_seed(0))
    for X_step, step in batches:
        labels = y[(X_step[:4, 0] / 2).long()]  # row i holds (2i, 2i + 1)
        expected = torch.cat([objective.class_ratio_[labels], torch.ones(4)])
        torch.testing.assert_close(objective._domain_weight(step, None), expected)


def _label_shifted_task(seed=0, spread=2.0):
    rng = np.random.default_rng(seed)
    X_source, y_source = _gaussian_classes([1 / 3] * 3, 600, rng, spread)
    X_target, y_target = _gaussian_classes(TRUE_TARGET, 600, rng, spread)
    X_target = X_target + 0.3  # a small covariate shift on top
    return X_source, y_source, X_target, y_target


def test_iwdan_records_the_estimate_every_epoch_and_keeps_no_training_state():
    X_source, y_source, X_target, _ = _label_shifted_task()
    clf = DANNClassifier(
        hidden_layer_sizes=(16,), max_iter=6, random_state=0, label_shift="iwdan",
        label_shift_warning=None,
    )  # fmt: skip
    clf.fit(X_source, y_source, X_target)
    proportions = np.array(clf.history_[:, "target_class_proportions"])
    ratios = np.array(clf.history_[:, "class_ratio"])
    assert proportions.shape == ratios.shape == (6, 3)
    np.testing.assert_allclose(proportions.sum(axis=1), 1.0, atol=1e-5)
    source_prior = np.bincount(y_source) / len(y_source)
    np.testing.assert_allclose(ratios, proportions / source_prior, rtol=1e-4, atol=1e-5)
    # The final estimate (in-sample, on features DANN aligns) finds the frequent and the
    # rare class, and is much closer to the truth than the source's proportions are.
    assert np.argmax(proportions[-1]) == 0 and np.argmin(proportions[-1]) == 2
    source_tv = total_variation(source_prior, TRUE_TARGET)
    assert total_variation(proportions[-1], TRUE_TARGET) < 0.7 * source_tv
    assert clf.history_[-1, "label_shift_tv"] == pytest.approx(
        total_variation(proportions[-1], source_prior), abs=1e-5
    )


def test_label_shift_warning_names_the_estimate_and_the_remedy():
    # Well separated classes: the check (mean of a logistic regression's target
    # probabilities) then reads the shift (true total variation 0.36, estimated 0.23).
    X_source, y_source, X_target, _ = _label_shifted_task(spread=4.0)
    params = {"hidden_layer_sizes": (16,), "max_iter": 5, "random_state": 0}
    with pytest.warns(LabelShiftWarning, match="above label_shift_warning=0.1") as record:
        DANNClassifier(**params, label_shift_warning=0.1).fit(X_source, y_source, X_target)
    assert 'try label_shift="iwdan"' in str(record[0].message)
    assert record[0].filename == __file__  # raised at the user's fit call, not in skorch
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelShiftWarning)
        quiet = DANNClassifier(**params, label_shift_warning=None).fit(
            X_source, y_source, X_target
        )
        # No estimate without the warning or IWDAN: the history has no such column.
        assert "label_shift_tv" not in quiet.history_[-1]
        DANNClassifier(**params, label_shift_warning=0.9).fit(X_source, y_source, X_target)


def test_label_shift_warning_names_the_users_line_through_a_pipeline_and_a_search():
    # scikit-learn calls fit on the user's behalf here: the warning still names this file,
    # not a file of an installed package (the docs' examples printed sklearn/pipeline.py).
    X_source, y_source, X_target, _ = _label_shifted_task(spread=4.0)
    X, y = stack_domains(X_source, y_source, X_target)
    clf = DANNClassifier(hidden_layer_sizes=(16,), max_iter=5, random_state=0)
    clf.set_params(label_shift_warning=0.1)
    with pytest.warns(LabelShiftWarning) as record:
        make_pipeline(StandardScaler(), clf).fit(X, y)
    assert record[0].filename == __file__
    with pytest.warns(LabelShiftWarning) as record:
        cross_validate(clf, X, y, cv=DomainStratifiedKFold(2, shuffle=True, random_state=0))
    assert {warning.filename for warning in record} == {__file__}


def test_the_warning_is_one_answer_for_every_seed_and_none_at_lambda_zero():
    X_source, y_source, X_target, _ = _label_shifted_task(spread=4.0)
    params = {"hidden_layer_sizes": (16,), "max_iter": 2, "label_shift_warning": 0.1}
    messages = []
    for seed in range(3):
        with warnings.catch_warnings(record=True) as caught:
            warnings.simplefilter("always")
            DANNClassifier(**params, random_state=seed).fit(X_source, y_source, X_target)
        shift = [str(w.message) for w in caught if issubclass(w.category, LabelShiftWarning)]
        assert len(shift) == 1  # once per fit
        messages.append(shift[0])
    assert len(set(messages)) == 1  # the estimate does not depend on the network's seed
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelShiftWarning)
        DANNClassifier(**params, adversarial_weight=0.0).fit(X_source, y_source, X_target)


def test_check_label_shift_reads_separable_label_shift_and_ignores_covariate_shift():
    rng = np.random.default_rng(3)
    X_source, y_source = _gaussian_classes([1 / 3] * 3, 1500, rng, spread=6.0)
    X_target, y_target = _gaussian_classes(TRUE_TARGET, 1500, rng, spread=6.0)
    check = check_label_shift(X_source, y_source, X_target)
    realised = np.bincount(y_target) / len(y_target)
    np.testing.assert_allclose(check.target_proportions, realised, atol=0.03)
    assert check.method == "mean" and check.source_proportions.sum() == pytest.approx(1.0)
    # Balanced classes, inputs moved along the boundary between classes 0 and 1: no shift.
    X_moved, _ = _gaussian_classes([1 / 3] * 3, 1500, rng, spread=6.0)
    check = check_label_shift(X_source, y_source, X_moved + np.array([0.0, 1.0]))
    assert check.total_variation < 0.05
    with pytest.raises(ValueError, match='method must be "mean", "em" or "bbse"'):
        check_label_shift(X_source, y_source, X_target, method="kmm")
    with pytest.raises(ValueError, match="at least two classes"):
        check_label_shift(X_source, np.zeros(len(y_source)), X_target)
