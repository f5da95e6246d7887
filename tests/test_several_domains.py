"""Several source and target domains: sample_domain, its routing and its errors."""

import re

import numpy as np
import pytest
import sklearn
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skdann import DANNClassifier, DANNRegressor
from skdann.model_selection import DomainStratifiedKFold
from skdann.objectives.dann import domain_labels

FAST = {"hidden_layer_sizes": (8,), "max_iter": 2, "batch_size": 8, "random_state": 0}


@pytest.fixture
def three_domains():
    """Two source domains of 40 and 24 rows, one target domain of 30 rows."""
    rng = np.random.RandomState(0)
    sample_domain = np.repeat([1, 2, -1], [40, 24, 30])
    X = rng.normal(size=(94, 4)) + np.abs(sample_domain)[:, None]
    y = (X[:, 0] > np.abs(sample_domain)).astype(int)
    y[sample_domain < 0] = -1
    return X, y, sample_domain


class StepDomains(Callback):
    """Record the number of rows and the domain labels of every training step."""

    def initialize(self):
        self.steps_ = []
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            X, step = batch
            labels = domain_labels(step.n_domains, step.n_per_domain, step.n_source, "cpu", None)
            self.steps_.append((len(X), step.n_source, labels))


def test_every_step_takes_batch_size_rows_from_every_domain(three_domains):
    X, y, sample_domain = three_domains
    probe = StepDomains()
    clf = DANNClassifier(**{**FAST, "callbacks": [("probe", probe)]})
    clf.fit(X, y, sample_domain=sample_domain)
    steps = _probe(clf).steps_
    assert clf.n_domains_ == 3
    assert clf.net_.module_.domain_head[-1].out_features == 3
    assert len(steps) == 2 * 5  # ceil(40 / 8) steps per epoch, 2 epochs
    for n_rows, n_source, labels in steps:
        assert (n_rows, n_source) == (24, 16)
        np.testing.assert_array_equal(labels.numpy(), np.repeat([0, 1, 2], 8))


def _probe(clf):
    return dict(clf.net_.callbacks_)["probe"]


def test_two_domains_by_id_train_like_no_sample_domain(three_domains):
    X, y, sample_domain = three_domains
    two = np.where(sample_domain > 0, 3, -7)
    with_ids = DANNClassifier(**FAST).fit(X, y, sample_domain=two)
    without = DANNClassifier(**FAST).fit(X, y)
    assert with_ids.n_domains_ == without.n_domains_ == 2
    np.testing.assert_array_equal(with_ids.predict_proba(X), without.predict_proba(X))


def test_several_target_domains_and_a_regressor(three_domains):
    X, y, sample_domain = three_domains
    sample_domain = np.where(np.arange(94) >= 79, -2, sample_domain)
    y_reg = np.where(y == -1, np.nan, X[:, 1])
    reg = DANNRegressor(**FAST).fit(X, y_reg, sample_domain=sample_domain)
    assert reg.n_domains_ == 4
    assert reg.net_.module_.domain_head[-1].out_features == 4


def _domains_seen(estimator, X, y):
    """A scorer that reports how many domains the fold's model was trained on."""
    return estimator[-1].n_domains_


def test_sample_domain_reaches_every_fold_with_routing_on(three_domains):
    X, y, sample_domain = three_domains
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**FAST))
    grid = {"dannclassifier__adversarial_weight": [0.1, 1.0]}
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            pipe,
            grid,
            cv=DomainStratifiedKFold(3, shuffle=True, random_state=0),
            scoring=_domains_seen,
        ).fit(X, y, sample_domain=sample_domain)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], [3, 3])
    assert search.best_estimator_[-1].n_domains_ == 3


def test_sample_domain_reaches_every_fold_with_routing_off(three_domains):
    X, y, sample_domain = three_domains
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**FAST))
    grid = {"dannclassifier__adversarial_weight": [0.1, 1.0]}
    search = GridSearchCV(
        pipe,
        grid,
        cv=DomainStratifiedKFold(3, shuffle=True, random_state=0),
        scoring=_domains_seen,
    ).fit(X, y, dannclassifier__sample_domain=sample_domain)
    np.testing.assert_array_equal(search.cv_results_["mean_test_score"], [3, 3])


def test_set_fit_request_can_turn_sample_domain_off(three_domains):
    X, y, sample_domain = three_domains
    with sklearn.config_context(enable_metadata_routing=True):
        clf = DANNClassifier(**FAST).set_fit_request(sample_domain=False)
        pipe = make_pipeline(StandardScaler(), clf)
        with pytest.raises(Exception, match="sample_domain"):
            pipe.fit(X, y, sample_domain=sample_domain)
        pipe = make_pipeline(StandardScaler(), DANNClassifier(**FAST))
        assert pipe.fit(X, y, sample_domain=sample_domain)[-1].n_domains_ == 3


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda d: d[:-1], "sample_domain must hold one domain id per row of X: got shape (93,)"),
        (lambda d: d.astype(float), "sample_domain must hold integer domain ids"),
        (lambda d: np.where(d == 2, 0, d), "sample_domain must not contain 0"),
        (
            lambda d: np.where(np.arange(94) == 93, 1, d),
            "1 rows have a positive (source) sample_domain but a target marker in y",
        ),
        (
            lambda d: np.where(np.arange(94) == 0, 5, d),
            "Domain 5 of sample_domain has a single row",
        ),
    ],
)
def test_bad_sample_domain(three_domains, change, message):
    X, y, sample_domain = three_domains
    with pytest.raises(ValueError, match=re.escape(message)):
        DANNClassifier(**FAST).fit(X, y, sample_domain=change(sample_domain))


def test_sample_domain_without_target_rows_warns_as_before(three_domains):
    X, y, sample_domain = three_domains
    source = sample_domain > 0
    with pytest.warns(UserWarning, match=re.escape("y contains no target rows (y == -1)")):
        clf = DANNClassifier(**FAST).fit(X[source], y[source], sample_domain=sample_domain[source])
    assert clf.n_domains_ == 2  # two source domains, no target domain


def test_sample_domain_is_for_the_stacked_form_only(three_domains):
    X, y, sample_domain = three_domains
    with pytest.raises(ValueError, match="sample_domain applies to the stacked form only"):
        DANNClassifier(**FAST).fit(X[:64], y[:64], X[64:], sample_domain=sample_domain)


def test_per_source_domain_head(three_domains):
    X, y, sample_domain = three_domains
    probe = StepDomains()
    clf = DANNClassifier(
        **{**FAST, "multi_domain_head": "per_source", "callbacks": [("probe", probe)]}
    )
    clf.fit(X, y, sample_domain=sample_domain)
    assert clf.n_domains_ == 3
    assert clf.net_.module_.domain_head[-1].out_features == 2  # one logit per source
    assert all(0.0 <= a <= 1.0 for a in clf.history_[:, "train_domain_accuracy"])
    assert np.isfinite(clf.history_[:, "train_domain_loss"]).all()
    two_targets = np.where(np.arange(94) >= 79, -2, sample_domain)
    with pytest.raises(
        ValueError, match='multi_domain_head="per_source" needs exactly one target'
    ):
        DANNClassifier(**{**FAST, "multi_domain_head": "per_source"}).fit(
            X, y, sample_domain=two_targets
        )


def test_per_source_domain_loss_values():
    import torch

    from skdann.objectives.dann import domain_loss

    # Two sources (labels 0, 1) and the target (label 2), two rows each.
    logits = torch.tensor(
        [[0.5, -1.0], [1.0, 2.0], [-0.3, 0.2], [0.1, -0.4], [2.0, 1.0], [-1.0, 0.3]]
    )
    labels = torch.tensor([0, 0, 1, 1, 2, 2])
    loss, correct = domain_loss(logits, labels, n_domains=3)
    bce = torch.nn.functional.binary_cross_entropy_with_logits
    # Head 0 sees rows 0, 1 (source 0, label 0) and 4, 5 (target, label 1); head 1 rows 2-5.
    expected = (
        bce(logits[[0, 1, 4, 5], 0], torch.tensor([0.0, 0, 1, 1]), reduction="sum")
        + bce(logits[[2, 3, 4, 5], 1], torch.tensor([0.0, 0, 1, 1]), reduction="sum")
    ) / 8
    torch.testing.assert_close(loss, expected)
    # Correct: row 0 no (0.5 > 0), row 1 no, row 2 no (0.2 > 0), row 3 yes,
    # row 4 both heads yes, row 5 one of two -> 0 + 0 + 0 + 1 + 1 + 0.5.
    assert float(correct) == 2.5
