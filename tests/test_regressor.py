"""DANNRegressor: targets, markers, standardisation, adaptation, bad input."""

import re

import numpy as np
import pytest

from skdann import DANNRegressor, stack_domains

from ._threads import torch_threads

FAST = {"hidden_layer_sizes": (16,), "max_iter": 5, "batch_size": 16, "random_state": 0}


@pytest.fixture
def shifted_regression():
    rng = np.random.RandomState(0)
    X_source = rng.normal(size=(80, 3))
    X_target = rng.normal(size=(60, 3)) + 0.7
    coef = np.array([1.0, -2.0, 0.5])
    return X_source, X_source @ coef + 3.0, X_target, X_target @ coef + 3.0


def moons_regression(n, angle, seed):
    """Two moons; the target is the position along them (0..2 pi), rotated by ``angle``."""
    rng = np.random.RandomState(seed)
    t = rng.uniform(0, np.pi, n)
    upper = rng.rand(n) < 0.5
    X = np.c_[np.where(upper, np.cos(t), 1 - np.cos(t)), np.where(upper, 1, -1) * np.sin(t)]
    X[~upper, 1] += 0.5
    X += rng.normal(scale=0.1, size=(n, 2))
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return X @ rotation.T, np.where(upper, t, t + np.pi)


def test_fit_predict_score_and_fitted_attributes(shifted_regression):
    X_source, y_source, X_target, y_target = shifted_regression
    reg = DANNRegressor(**FAST).fit(X_source, y_source, X_target)
    assert reg.predict(X_target).shape == (60,)
    assert reg.n_outputs_ == 1 and reg.n_domains_ == 2 and reg.n_iter_ == 5
    np.testing.assert_allclose(reg.target_mean_, [y_source.mean()])
    np.testing.assert_allclose(reg.target_scale_, [y_source.std()])
    assert reg.net_.module_.label_head.out_features == 1
    assert reg.transform(X_target).shape == (60, 16)
    assert np.isfinite(reg.score(X_target, y_target))


def test_stacked_form_marks_targets_with_nan_and_matches_three_arguments(shifted_regression):
    X_source, y_source, X_target, _ = shifted_regression
    X, y = stack_domains(X_source, y_source, X_target, regression=True)
    assert y.dtype == np.float64 and np.isnan(y[80:]).all() and not np.isnan(y[:80]).any()
    three = DANNRegressor(**FAST).fit(X_source, y_source, X_target)
    stacked = DANNRegressor(**FAST).fit(X, y)
    np.testing.assert_array_equal(three.predict(X_target), stacked.predict(X_target))


def test_minus_one_is_an_ordinary_regression_value(shifted_regression):
    X_source, _, X_target, _ = shifted_regression
    y = np.full(80, -1.0)
    y[::2] = 1.0
    reg = DANNRegressor(**FAST).fit(X_source, y, X_target)
    assert reg.n_domains_ == 2
    np.testing.assert_allclose(reg.target_mean_, [0.0])


def test_predictions_come_back_in_the_original_units(shifted_regression):
    # Targets are standardised inside fit: scaling y scales the predictions and
    # leaves the training (and so the standardised output) unchanged.
    X_source, y_source, X_target, _ = shifted_regression
    small = DANNRegressor(**FAST).fit(X_source, y_source, X_target).predict(X_target)
    large = DANNRegressor(**FAST).fit(X_source, 1000 * y_source + 5, X_target).predict(X_target)
    np.testing.assert_allclose(large, 1000 * small + 5, rtol=1e-4, atol=1e-2)


def test_multi_output_targets(shifted_regression):
    X_source, y_source, X_target, _ = shifted_regression
    Y_source = np.c_[y_source, -y_source, np.ones(80)]
    reg = DANNRegressor(**FAST).fit(X_source, Y_source, X_target)
    assert reg.n_outputs_ == 3 and reg.predict(X_target).shape == (60, 3)
    np.testing.assert_allclose(reg.target_scale_[2], 1.0)  # a constant output keeps scale 1
    X, Y = stack_domains(X_source, Y_source, X_target, regression=True)
    assert Y.shape == (140, 3) and np.isnan(Y[80:]).all()
    np.testing.assert_array_equal(
        DANNRegressor(**FAST).fit(X, Y).predict(X_target), reg.predict(X_target)
    )
    score = reg.score(X, np.r_[Y[:80], np.full((60, 3), np.nan)])
    assert np.isfinite(score)


def test_score_is_r2_on_labeled_rows_only(shifted_regression):
    X_source, y_source, X_target, _ = shifted_regression
    reg = DANNRegressor(**FAST).fit(X_source, y_source, X_target)
    X, y = stack_domains(X_source, y_source, X_target, regression=True)
    assert reg.score(X, y) == pytest.approx(reg.score(X_source, y_source))
    with pytest.raises(ValueError, match=re.escape("every row of y is NaN (target)")):
        reg.score(X_target, np.full(60, np.nan))


def test_huber_loss_trains_a_different_model(shifted_regression):
    X_source, y_source, X_target, _ = shifted_regression
    y_outliers = y_source.copy()
    y_outliers[:5] += 50
    squared = DANNRegressor(**FAST).fit(X_source, y_outliers, X_target)
    huber = DANNRegressor(**FAST, loss="huber", huber_delta=0.5).fit(
        X_source, y_outliers, X_target
    )
    assert not np.allclose(squared.predict(X_target), huber.predict(X_target))


def test_dann_beats_its_source_only_fit_on_rotated_moons_regression():
    # The regression analogue of the JMLR moons: the target is rotated by 35 degrees.
    # Measured target R2 (300 rows per domain, (32,), 100 epochs, 2 threads): seeds
    # 0-4 source-only 0.097, DANN 0.311 (gain 0.215, s.e. 0.069); seeds 5-9, not
    # used here: -0.189 and -0.031 (gain 0.158, s.e. 0.218, one seed at -0.91).
    # The margin of 0.05 holds on the mean of both seed sets.
    with torch_threads(2):
        gains = []
        for seed in range(5):
            X_source, y_source = moons_regression(300, 0.0, seed)
            X_target, y_target = moons_regression(300, 35.0, seed + 100)
            scores = [
                DANNRegressor(
                    hidden_layer_sizes=(32,),
                    adversarial_weight=weight,
                    batch_size=32,
                    random_state=seed,
                )
                .fit(X_source, y_source, X_target)
                .score(X_target, y_target)
                for weight in (0.0, 1.0)
            ]
            gains.append(scores[1] - scores[0])
    assert np.mean(gains) >= 0.05, gains


@pytest.mark.parametrize(
    ("y", "message"),
    [
        (np.r_[np.inf, np.zeros(79)], "y contains infinite values; only NaN is allowed in y"),
        (np.array(["a"] * 80), "DANNRegressor needs numeric targets; y has dtype <U1."),
        (
            np.c_[np.r_[np.nan, np.zeros(79)], np.zeros(80)],
            "y has rows where some outputs are NaN and others are not",
        ),
        (np.full(80, np.nan), "y has no labeled source rows: every row is marked NaN (target)"),
    ],
)
def test_bad_regression_targets(shifted_regression, y, message):
    X_source = shifted_regression[0]
    with pytest.raises(ValueError, match=re.escape(message)):
        DANNRegressor(**FAST).fit(X_source, y)


def test_stack_domains_rejects_nan_source_targets(shifted_regression):
    X_source, y_source, X_target, _ = shifted_regression
    y_source = y_source.copy()
    y_source[3] = np.nan
    with pytest.raises(ValueError, match="y_source contains NaN, which marks target rows"):
        stack_domains(X_source, y_source, X_target, regression=True)


@pytest.mark.parametrize("factor", [1e200, 1e-300, 1e300])
def test_targets_near_the_float_limits(shifted_regression, factor):
    X_source, y_source, X_target, _ = shifted_regression
    reference = DANNRegressor(**FAST).fit(X_source, y_source, X_target)
    scaled = DANNRegressor(**FAST).fit(X_source, y_source * factor, X_target)
    assert np.isfinite(scaled.target_scale_).all() and (scaled.target_scale_ > 0).all()
    np.testing.assert_allclose(scaled.target_scale_ / factor, reference.target_scale_)
    predictions = scaled.predict(X_target)
    assert np.isfinite(predictions).all()
    np.testing.assert_allclose(predictions / factor, reference.predict(X_target), rtol=1e-5)


def test_a_constant_target_has_scale_1(shifted_regression):
    X_source, _, X_target, _ = shifted_regression
    reg = DANNRegressor(**FAST).fit(X_source, np.full(len(X_source), 1e-300), X_target)
    assert reg.target_scale_.tolist() == [1.0] and reg.target_mean_.tolist() == [1e-300]
