"""The guarded estimator: baselines beside DANN candidates, weighed without target labels."""

import pickle
import re
import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.linear_model import LogisticRegression, Ridge
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, DANNRegressor, recommended_estimator, stack_domains
from skdann._guard_rules import choose_weights, combine, weighted_scores
from skdann.ensemble import GuardedAdaptationClassifier, GuardedAdaptationRegressor
from skdann.label_shift import LabelShiftWarning
from tests.conftest import rotated_moons

FAST = {"max_iter": 3, "label_shift_warning": None}


def _candidates(weights=(0.0, 1.0)):
    return [(f"dann_{w:g}", DANNClassifier(adversarial_weight=w, **FAST)) for w in weights]


@pytest.fixture
def moons():
    return rotated_moons(120)


def test_report_names_every_candidate_and_the_weights_sum_to_one(moons):
    X, y, X_target, y_target = moons
    model = GuardedAdaptationClassifier(rule="conservative", candidates=_candidates()).fit(
        X, y, X_target
    )
    names = ["logistic_regression", "hist_gradient_boosting", "dann_0", "dann_1"]
    assert list(model.candidates_) == names
    assert [c["name"] for c in model.report_["candidates"]] == names
    assert sum(model.weights_.values()) == pytest.approx(1.0)
    assert model.report_["chosen"] == {n: w for n, w in model.weights_.items() if w}
    assert model.report_["n_source_fit"] + model.report_["n_source_holdout"] == len(y)
    assert model.report_["n_target"] == len(X_target)
    proba = model.predict_proba(X_target)
    assert proba.shape == (len(X_target), 2)
    np.testing.assert_allclose(proba.sum(axis=1), 1.0)
    assert 0.0 <= model.score(X_target, y_target) <= 1.0


def test_a_single_chosen_candidate_predicts_exactly_as_that_candidate(moons):
    X, y, X_target, _ = moons
    model = GuardedAdaptationClassifier(candidates=_candidates(), rule="baselines")
    model.fit(X, y, X_target)
    (name,) = model.report_["chosen"]
    assert model.report_["candidates"][0]["kind"] == "baseline"
    chosen = model.candidates_[name]
    np.testing.assert_array_equal(model.predict(X_target), chosen.predict(X_target))
    np.testing.assert_allclose(model.predict_proba(X_target), chosen.predict_proba(X_target))


def test_the_baselines_are_refitted_on_every_source_row(moons):
    X, y, X_target, _ = moons
    model = GuardedAdaptationClassifier(rule="conservative", candidates=_candidates()).fit(
        X, y, X_target
    )
    own = make_pipeline(StandardScaler(), LogisticRegression(max_iter=2000)).fit(X, y)
    np.testing.assert_allclose(
        model.candidates_["logistic_regression"].predict_proba(X_target),
        own.predict_proba(X_target),
        rtol=1e-5,  # the estimator reads X as float32, as DANN does
    )


def test_conservative_keeps_the_best_baseline_unless_adaptation_beats_it_by_the_margin():
    scores = np.array([0.70, 0.72, 0.74, 0.73])
    is_baseline = np.array([True, True, False, False])
    args = (scores, is_baseline, None, None, None, None)
    weights, reason = choose_weights("conservative", 0.05, *args)
    np.testing.assert_array_equal(weights, [0, 1, 0, 0])
    assert reason.startswith("weak evidence for adaptation")
    weights, reason = choose_weights("conservative", 0.01, *args)
    np.testing.assert_array_equal(weights, [0, 0, 1, 0])
    assert "by 0.020" in reason
    weights, _ = choose_weights("baselines", 0.0, *args)
    np.testing.assert_array_equal(weights, [0, 1, 0, 0])
    weights, _ = choose_weights("average_baselines", 0.0, *args)
    np.testing.assert_array_equal(weights, [0.5, 0.5, 0, 0])
    weights, _ = choose_weights("select", 0.0, *args)
    np.testing.assert_array_equal(weights, [0, 0, 1, 0])
    weights, _ = choose_weights("average", 0.0, *args)
    np.testing.assert_allclose(weights, 0.25)


def test_aggregate_recovers_the_mixture_that_made_the_labels():
    rng = np.random.default_rng(0)
    predictions = rng.normal(size=(3, 200))
    y = 0.2 * predictions[0] + 0.8 * predictions[2]
    weights, _ = choose_weights(
        "aggregate", 0.0, np.zeros(3), np.array([True, False, False]), predictions, y,
        np.ones(200), None,
    )  # fmt: skip
    np.testing.assert_allclose(weights, [0.2, 0.0, 0.8], atol=1e-4)


def test_weighted_scores_count_the_heavy_rows():
    proba = np.array([[[0.9, 0.1], [0.9, 0.1]], [[0.1, 0.9], [0.1, 0.9]]])
    y = np.array([0, 1])
    scores = weighted_scores(proba, y, np.array([3.0, 1.0]), np.array([0, 1]))
    np.testing.assert_allclose(scores, [0.75, 0.25])
    values = np.array([[1.0, 2.0, 3.0], [2.0, 2.0, 2.0]])
    r2 = weighted_scores(values, np.array([1.0, 2.0, 3.0]), np.ones(3), None)
    np.testing.assert_allclose(r2, [1.0, 0.0])


def test_combined_probabilities_stay_a_distribution():
    proba = np.array([[[0.9, 0.1]], [[0.2, 0.8]]])
    combined = combine(np.array([1.5, -0.5]), proba)
    assert np.all(combined >= 0)
    np.testing.assert_allclose(combined.sum(axis=1), 1.0)


def test_reweigh_changes_the_weights_not_the_candidates(moons):
    X, y, X_target, _ = moons
    model = GuardedAdaptationClassifier(
        rule="conservative", candidates=_candidates(), label_shift_threshold=None
    )
    model.fit(X, y, X_target)
    other = model.reweigh("average")
    assert other is not model and other.rule == "average" and model.rule == "conservative"
    assert other.candidates_ is model.candidates_
    assert set(other.weights_.values()) == {0.25}
    with pytest.raises(ValueError, match="rule"):
        model.reweigh("best")


def test_label_shift_takes_the_aligned_candidates_out_and_warns_once(moons):
    X, y, X_target, y_target = moons
    keep = np.r_[np.flatnonzero(y_target == 0), np.flatnonzero(y_target == 1)[:10]]
    model = GuardedAdaptationClassifier(
        rule="conservative", candidates=_candidates(), label_shift_threshold=0.1
    )
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        model.fit(X, y, X_target[keep])
    shifted = [w for w in caught if issubclass(w.category, LabelShiftWarning)]
    assert len(shifted) == 1
    assert shifted[0].filename == __file__
    report = model.report_["label_shift"]
    assert report["total_variation"] > 0.1
    assert report["excluded"] == ["dann_1"]
    considered = {c["name"]: c["considered"] for c in model.report_["candidates"]}
    assert considered == {
        "logistic_regression": True, "hist_gradient_boosting": True, "dann_0": True,
        "dann_1": False,
    }  # fmt: skip
    assert model.weights_["dann_1"] == 0.0
    silent = GuardedAdaptationClassifier(
        rule="conservative", candidates=_candidates(), label_shift_threshold=None
    )
    with warnings.catch_warnings():
        warnings.simplefilter("error", LabelShiftWarning)
        silent.fit(X, y, X_target[keep])
    assert silent.report_["label_shift"] is None


def test_the_default_averages_the_baselines_and_trains_no_dann(moons):
    X, y, X_target, _ = moons
    model = GuardedAdaptationClassifier().fit(X, y, X_target)
    assert model.weights_ == {"logistic_regression": 0.5, "hist_gradient_boosting": 0.5}
    assert model.report_["reason"] == "the plain mean of the baselines"
    expected = np.mean([m.predict_proba(X_target) for m in model.candidates_.values()], axis=0)
    np.testing.assert_allclose(model.predict_proba(X_target), expected)


def test_in_a_pipeline_the_target_rows_reach_the_preprocessing(moons):
    X, y, X_target, y_target = moons
    X_all, y_all = stack_domains(X, y, X_target)
    model = make_pipeline(
        StandardScaler(),
        GuardedAdaptationClassifier(rule="conservative", candidates=_candidates((1.0,))),
    )
    model.fit(X_all, y_all)
    np.testing.assert_allclose(model[0].mean_, X_all.mean(axis=0))
    assert model.score(X_target, y_target) >= 0.0


def test_clone_pickle_and_grid_search(moons):
    X, y, X_target, _ = moons
    X_all, y_all = stack_domains(X, y, X_target)
    model = GuardedAdaptationClassifier(candidates=_candidates((0.0,)), rule="baselines")
    assert clone(model).get_params()["rule"] == "baselines"
    fitted = model.fit(X_all, y_all)
    again = pickle.loads(pickle.dumps(fitted))
    np.testing.assert_allclose(again.predict_proba(X_target), fitted.predict_proba(X_target))
    search = GridSearchCV(model, {"rule": ["baselines", "average_baselines"]}, cv=2)
    search.fit(X_all, y_all)
    assert search.best_params_["rule"] in ("baselines", "average_baselines")


def test_several_source_domains_reach_the_candidates(moons):
    X, y, X_target, _ = moons
    X_all, y_all = stack_domains(X, y, X_target)
    domain = np.r_[np.where(np.arange(len(y)) % 2, 1, 2), -np.ones(len(X_target), int)]
    model = GuardedAdaptationClassifier(rule="conservative", candidates=_candidates((1.0,)))
    model.fit(X_all, y_all, sample_domain=domain)
    assert model.candidates_["dann_1"].n_domains_ == 3


def test_regressor_weighs_ridge_and_boosting():
    rng = np.random.default_rng(0)
    X = rng.normal(size=(150, 3))
    y = X @ [1.0, -2.0, 0.5] + 0.1 * rng.normal(size=150)
    X_target = rng.normal(size=(100, 3)) + 0.5
    candidates = [("dann", DANNRegressor(max_iter=3))]
    model = GuardedAdaptationRegressor(rule="conservative", candidates=candidates).fit(
        X, y, X_target
    )
    assert list(model.candidates_) == ["ridge", "hist_gradient_boosting", "dann"]
    assert "label_shift" not in model.report_
    assert model.weights_["ridge"] == 1.0  # a linear truth: ridge wins on the holdout
    own = make_pipeline(StandardScaler(), Ridge()).fit(X, y)
    np.testing.assert_allclose(model.predict(X_target), own.predict(X_target), rtol=1e-4)


def test_sparse_input_leaves_boosting_out(moons):
    import scipy.sparse as sp

    X, y, X_target, _ = moons
    model = GuardedAdaptationClassifier(rule="conservative", candidates=_candidates((0.0,)))
    model.fit(sp.csr_matrix(X), y, sp.csr_matrix(X_target))
    assert list(model.candidates_) == ["logistic_regression", "dann_0"]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (lambda X, y, Xt: (X, np.zeros_like(y), Xt), "one class"),
        (lambda X, y, Xt: (X, y, Xt[:, :1]), "feature"),
    ],
)
def test_bad_input_names_the_problem(moons, args, message):
    X, y, X_target, _ = moons
    with pytest.raises(ValueError, match=message):
        GuardedAdaptationClassifier(rule="conservative", candidates=_candidates((0.0,))).fit(
            *args(X, y, X_target)
        )


def test_without_target_rows_it_warns_and_weighs_on_the_plain_holdout(moons):
    X, y, _, _ = moons
    model = GuardedAdaptationClassifier(rule="conservative", candidates=_candidates((0.0,)))
    with pytest.warns(UserWarning, match="got no target rows"):
        model.fit(X, y)
    assert model.report_["importance_effective_rows"] == model.report_["n_source_holdout"]
    assert model.report_["label_shift"] is None


def test_duplicate_names_are_refused(moons):
    X, y, X_target, _ = moons
    twice = [("same", DANNClassifier(**FAST)), ("same", DANNClassifier(**FAST))]
    with pytest.raises(ValueError, match=re.escape("names must be unique")):
        GuardedAdaptationClassifier(rule="conservative", candidates=twice).fit(X, y, X_target)


def test_recommended_estimator_is_the_guarded_estimator_with_the_chosen_defaults():
    classifier = recommended_estimator("classification", random_state=3)
    assert isinstance(classifier, GuardedAdaptationClassifier)
    assert classifier.random_state == 3 and classifier.rule == "average_baselines"
    assert isinstance(recommended_estimator("regression"), GuardedAdaptationRegressor)
    with pytest.raises(ValueError, match='"classification" or "regression"'):
        recommended_estimator("ranking")


def test_a_model_file_keeps_every_candidate_the_report_and_the_evidence(moons, tmp_path):
    from skdann import load, save
    from skdann.io import read_config

    X, y, X_target, _ = moons
    X_all, y_all = stack_domains(X, y, X_target)
    candidates = [
        ("dann", DANNClassifier(**FAST)),
        ("scaled_dann", make_pipeline(StandardScaler(), DANNClassifier(**FAST))),
    ]
    model = make_pipeline(
        StandardScaler(), GuardedAdaptationClassifier(candidates=candidates, rule="average")
    ).fit(X_all, y_all)
    path = tmp_path / "guarded.skdann"
    with pytest.warns(UserWarning, match="does not store candidates"):
        save(model, path)
    assert read_config(path)["format_version"] == 4
    loaded = load(path)
    np.testing.assert_array_equal(loaded.predict_proba(X_target), model.predict_proba(X_target))
    assert loaded[-1].report_ == model[-1].report_
    assert loaded[-1].candidates is None  # the fitted models are stored, not the templates
    assert loaded[-1].reweigh("baselines").weights_ == model[-1].reweigh("baselines").weights_


def test_a_failed_fit_keeps_the_fitted_model(moons):
    X, y, X_target, _ = moons
    model = GuardedAdaptationClassifier().fit(X, y, X_target)
    before = model.predict_proba(X_target)
    with pytest.raises(ValueError, match="one class"):
        model.fit(X, np.zeros_like(y), X_target)
    np.testing.assert_array_equal(model.classes_, [0, 1])
    np.testing.assert_array_equal(model.predict_proba(X_target), before)
