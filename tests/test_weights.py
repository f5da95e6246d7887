"""sample_weight and class_weight: their effect on the fit, their routing, bad values."""

import re

import numpy as np
import pytest
import sklearn
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, DANNRegressor, stack_domains

FAST = {"hidden_layer_sizes": (16,), "max_iter": 10, "batch_size": 16, "random_state": 0}


@pytest.fixture
def overlapping_classes():
    """Two overlapping classes, 30 rows of class 1 against 90 of class 0; shifted target."""
    rng = np.random.RandomState(0)
    y_source = np.r_[np.zeros(90, dtype=int), np.ones(30, dtype=int)]
    X_source = rng.normal(size=(120, 3)) + 1.0 * y_source[:, None]
    X_target = rng.normal(size=(100, 3)) + 0.5
    return X_source, y_source, X_target


def _share_of_class_1(clf, X):
    return float(np.mean(clf.predict(X) == 1))


def test_sample_weight_moves_predictions_towards_the_upweighted_class(overlapping_classes):
    X_source, y_source, X_target = overlapping_classes
    plain = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    heavy = DANNClassifier(**FAST).fit(
        X_source, y_source, X_target, sample_weight=np.where(y_source == 1, 5.0, 1.0)
    )
    assert _share_of_class_1(heavy, X_target) > _share_of_class_1(plain, X_target) + 0.2


def test_class_weight_balanced_and_dict(overlapping_classes):
    X_source, y_source, X_target = overlapping_classes
    plain = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    balanced = DANNClassifier(**FAST, class_weight="balanced").fit(X_source, y_source, X_target)
    assert _share_of_class_1(balanced, X_target) > _share_of_class_1(plain, X_target) + 0.2
    # "balanced" is n / (2 n_c): 120 / 180 for class 0 and 120 / 60 for class 1, i.e. the
    # same relative weights as {0: 1, 1: 3}, and the same as a sample_weight of 3 on class 1.
    as_dict = DANNClassifier(**FAST, class_weight={0: 1.0, 1: 3.0}).fit(
        X_source, y_source, X_target
    )
    as_rows = DANNClassifier(**FAST).fit(
        X_source, y_source, X_target, sample_weight=np.where(y_source == 1, 3.0, 1.0)
    )
    np.testing.assert_allclose(
        balanced.predict_proba(X_target), as_dict.predict_proba(X_target), rtol=1e-5
    )
    np.testing.assert_array_equal(as_dict.predict_proba(X_target), as_rows.predict_proba(X_target))


def test_class_weight_with_unknown_label(overlapping_classes):
    X_source, y_source, X_target = overlapping_classes
    with pytest.raises(ValueError, match="class_weight names labels that are not among"):
        DANNClassifier(**FAST, class_weight={0: 1.0, 7: 2.0}).fit(X_source, y_source, X_target)


def test_target_row_weights_scale_the_domain_loss(overlapping_classes):
    X_source, y_source, X_target = overlapping_classes
    X, y = stack_domains(X_source, y_source, X_target)
    ones = DANNClassifier(**FAST).fit(X, y, sample_weight=np.ones(len(y)))
    plain = DANNClassifier(**FAST).fit(X, y)
    # Unit weights give the unweighted fit (up to float summation order).
    np.testing.assert_allclose(
        ones.predict_proba(X_target), plain.predict_proba(X_target), atol=1e-5
    )
    # Weighting the target rows far from the source changes the domain loss it trains on.
    far = np.r_[np.ones(120), np.where(X_target.sum(axis=1) > 1.5, 10.0, 0.1)]
    weighted = DANNClassifier(**FAST).fit(X, y, sample_weight=far)
    assert not np.allclose(
        weighted.history_[:, "train_domain_loss"], plain.history_[:, "train_domain_loss"]
    )


def test_regressor_sample_weight(overlapping_classes):
    X_source, _, X_target = overlapping_classes
    y = np.r_[np.zeros(60), np.full(60, 10.0)]
    plain = DANNRegressor(**FAST).fit(X_source, y, X_target).predict(X_target).mean()
    heavy = DANNRegressor(**FAST).fit(
        X_source, y, X_target, sample_weight=np.r_[np.ones(60), np.full(60, 9.0)]
    )
    assert heavy.predict(X_target).mean() > plain + 2.0


def test_sample_weight_routes_through_a_pipeline(overlapping_classes):
    X_source, y_source, X_target = overlapping_classes
    X, y = stack_domains(X_source, y_source, X_target)
    weights = np.r_[np.where(y_source == 1, 5.0, 1.0), np.ones(100)]
    direct = make_pipeline(StandardScaler(), DANNClassifier(**FAST))
    direct.fit(X, y, dannclassifier__sample_weight=weights)
    with sklearn.config_context(enable_metadata_routing=True):
        routed = make_pipeline(
            StandardScaler().set_fit_request(sample_weight=False),
            DANNClassifier(**FAST).set_fit_request(sample_weight=True),
        ).fit(X, y, sample_weight=weights)
    np.testing.assert_array_equal(direct.predict_proba(X), routed.predict_proba(X))
    plain = make_pipeline(StandardScaler(), DANNClassifier(**FAST)).fit(X, y)
    assert not np.allclose(direct.predict_proba(X), plain.predict_proba(X))


@pytest.mark.parametrize(
    ("weights", "message"),
    [
        (np.r_[-1.0, np.ones(219)], "sample_weight must be non-negative; its minimum is -1.0."),
        (np.r_[np.nan, np.ones(219)], "sample_weight contains NaN or infinite values."),
        (np.r_[np.inf, np.ones(219)], "sample_weight contains NaN or infinite values."),
        (np.r_[np.zeros(120), np.ones(100)], "sample_weight is zero on every source row"),
        (np.r_[np.ones(120), np.zeros(100)], "sample_weight is zero on every target row"),
        (np.ones(5), "sample_weight must hold one weight per row of X: got shape (5,) for 220"),
        (np.array(["a"] * 220), "sample_weight must be numeric, got dtype <U1."),
    ],
)
def test_bad_sample_weight(overlapping_classes, weights, message):
    X, y = stack_domains(*overlapping_classes)
    with pytest.raises(ValueError, match=re.escape(message)):
        DANNClassifier(**FAST).fit(X, y, sample_weight=weights)


def test_weights_near_the_float_limit_do_not_overflow(overlapping_classes):
    X_source, y_source, X_target = overlapping_classes
    plain = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    huge = DANNClassifier(**FAST).fit(
        X_source, y_source, X_target, sample_weight=np.full(len(y_source), 1e308)
    )
    np.testing.assert_allclose(huge.predict_proba(X_target), plain.predict_proba(X_target))
