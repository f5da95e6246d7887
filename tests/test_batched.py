"""Batched training: K estimators as one stacked network, and the searches built on it."""

import pickle
import warnings

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn import config_context
from sklearn.base import clone
from sklearn.exceptions import FitFailedWarning
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import skdann
from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann import batched as batched_module
from skdann.batched import batching_reason, fit_batched
from skdann.ensemble import SeedEnsemble
from skdann.label_shift import LabelShiftWarning
from skdann.metrics import importance_weighted_scorer, mean_rank_refit
from skdann.model_selection import BatchedGridSearchCV, DomainStratifiedKFold

from ._threads import torch_threads

SMALL = {"hidden_layer_sizes": (16,), "max_iter": 4, "batch_size": 32, "random_state": 0}


@pytest.fixture(autouse=True)
def _one_thread():
    with torch_threads(1):
        yield


@pytest.fixture
def data():
    rng = np.random.RandomState(0)
    X = rng.normal(size=(240, 6))
    y = (X[:, 0] + X[:, 1] > 0).astype(int)
    X_target = rng.normal(size=(160, 6)) + 0.7
    return X, y, X_target


def _quiet(estimator_class, **params):
    extra = {"label_shift_warning": None} if estimator_class is DANNClassifier else {}
    return estimator_class(**{**SMALL, **extra, **params})


def _history(estimator):
    keys = ("train_loss", "train_label_loss", "train_domain_loss", "adversarial_weight")
    return np.array([[row[k] for k in keys] for row in estimator.history_])


ONE_COPY_CASES = {
    "defaults": ({}, "three"),
    "early stopping": ({"early_stopping": True, "n_iter_no_change": 2}, "three"),
    "dropout": ({"dropout": 0.2}, "three"),
    "mcc": ({"objective": "dann+mcc"}, "three"),
    "two sources": ({}, "sources"),
    "sparse rows": ({}, "sparse"),
    "weights": ({"class_weight": "balanced"}, "weights"),
}


def _fit_args(form, data):
    X, y, X_target = data
    if form == "sources":
        X_all, y_all = np.r_[X, X + 0.3, X_target], np.r_[y, y, -np.ones(len(X_target), int)]
        domain = np.r_[
            np.ones(len(X), int), 2 * np.ones(len(X), int), -np.ones(len(X_target), int)
        ]
        return (X_all, y_all), {"sample_domain": domain}
    if form == "sparse":
        return (sp.csr_matrix(np.maximum(X, 0)), y, sp.csr_matrix(np.maximum(X_target, 0))), {}
    if form == "weights":
        return (X, y, X_target), {"sample_weight": np.linspace(0.5, 2.0, len(X))}
    return (X, y, X_target), {}


@pytest.mark.parametrize("case", ONE_COPY_CASES)
def test_one_copy_is_bit_for_bit_the_plain_fit(case, data):
    params, form = ONE_COPY_CASES[case]
    args, kwargs = _fit_args(form, data)
    plain = _quiet(DANNClassifier, **params).fit(*args, **kwargs)
    (batched,) = fit_batched([_quiet(DANNClassifier, **params)], *args, **kwargs)
    np.testing.assert_array_equal(batched.predict_proba(args[0]), plain.predict_proba(args[0]))
    np.testing.assert_array_equal(_history(batched), _history(plain))
    assert batched.n_iter_ == plain.n_iter_


@pytest.mark.parametrize(
    "grid",
    [
        [{"adversarial_weight": a, "alpha": alpha} for a in (0.1, 1.0) for alpha in (1e-4, 1e-2)],
        [{"learning_rate_init": rate, "adversarial_schedule": "constant"} for rate in (0.01, 0.1)],
        [{"random_state": seed, "dropout": 0.1} for seed in (0, 1, 2)],
        [{"random_state": s, "early_stopping": True, "n_iter_no_change": 1} for s in (0, 1, 2)],
        [{"objective": "mcc", "adversarial_weight": a} for a in (0.3, 1.0)],
    ],
    ids=["lambda x alpha", "learning rates", "seeds with dropout", "early stopping", "mcc"],
)
def test_each_copy_is_its_plain_fit_up_to_rounding(grid, data):
    X, y, X_target = data
    fitted = fit_batched([_quiet(DANNClassifier, **p) for p in grid], X, y, X_target)
    for params, estimator in zip(grid, fitted, strict=True):
        plain = _quiet(DANNClassifier, **params).fit(X, y, X_target)
        assert estimator.n_iter_ == plain.n_iter_
        np.testing.assert_allclose(
            estimator.predict_proba(X_target), plain.predict_proba(X_target), atol=1e-5
        )


def test_sparse_copies_with_their_own_batch_orders_match_their_plain_fits(data):
    # Two seeds: each copy multiplies its own CSR batch (the per-copy product path).
    (X, y, X_target), _ = _fit_args("sparse", data)
    grid = [{"random_state": 0, "alpha": 1e-4}, {"random_state": 1, "alpha": 1e-2}]
    fitted = fit_batched([_quiet(DANNClassifier, **p) for p in grid], X, y, X_target)
    for params, estimator in zip(grid, fitted, strict=True):
        plain = _quiet(DANNClassifier, **params).fit(X, y, X_target)
        np.testing.assert_allclose(
            estimator.predict_proba(X_target), plain.predict_proba(X_target), atol=1e-5
        )


def test_regressors_batch_too(data):
    X, _, X_target = data
    y = 2 * X[:, 0] + X[:, 1]
    grid = [{"adversarial_weight": a, "loss": "huber"} for a in (0.1, 1.0)]
    fitted = fit_batched([_quiet(DANNRegressor, **p) for p in grid], X, y, X_target)
    for params, estimator in zip(grid, fitted, strict=True):
        plain = _quiet(DANNRegressor, **params).fit(X, y, X_target)
        np.testing.assert_allclose(estimator.predict(X_target), plain.predict(X_target), atol=1e-4)


def test_early_stopping_freezes_each_copy_at_its_own_best_epoch(data):
    X, y, X_target = data
    grid = [{"learning_rate_init": rate} for rate in (0.001, 0.3)]
    params = {"early_stopping": True, "n_iter_no_change": 1, "max_iter": 12}
    fitted = fit_batched([_quiet(DANNClassifier, **params, **p) for p in grid], X, y, X_target)
    iterations = [e.n_iter_ for e in fitted]
    assert iterations[0] != iterations[1]  # one stopped while the other went on
    for estimator, p in zip(fitted, grid, strict=True):
        plain = _quiet(DANNClassifier, **params, **p).fit(X, y, X_target)
        assert estimator.history_[-1, "best_epoch"] == plain.history_[-1, "best_epoch"]


def test_a_copy_that_diverges_fails_alone_and_keeps_its_previous_fit(data):
    X, y, X_target = data
    previous = _quiet(DANNClassifier).fit(X, y, X_target)
    state = previous.net_
    good, bad = _quiet(DANNClassifier), previous
    bad.set_params(learning_rate_init=1e6, learning_rate_schedule="constant")
    outcomes = fit_batched([good, bad], X, y, X_target, errors="return")
    assert outcomes[0] is good and hasattr(good, "net_")
    assert isinstance(outcomes[1], FloatingPointError)
    assert "Training diverged" in str(outcomes[1])
    assert bad.net_ is state  # the failed copy's estimator kept its previous fit
    with pytest.raises(FloatingPointError, match=r"^estimators\[1\]: Training diverged"):
        fit_batched([clone(good), clone(bad)], X, y, X_target)


def test_batched_estimators_pickle_save_and_load(data, tmp_path):
    X, y, X_target = data
    fitted = fit_batched(
        [_quiet(DANNClassifier, adversarial_weight=a) for a in (0.1, 1.0)], X, y, X_target
    )
    for index, estimator in enumerate(fitted):
        expected = estimator.predict_proba(X_target)
        np.testing.assert_array_equal(
            pickle.loads(pickle.dumps(estimator)).predict_proba(X_target), expected
        )
        path = tmp_path / f"model{index}.skdann"
        skdann.save(estimator, path)
        np.testing.assert_array_equal(skdann.load(path).predict_proba(X_target), expected)


def test_what_cannot_be_batched_is_refused_with_the_reason(data):
    X, y, X_target = data
    assert batching_reason(_quiet(DANNClassifier)) is None
    assert batching_reason(_quiet(DANNClassifier, solver="adam")) == (
        'solver="adam" (only "sgd" is batched)'
    )
    assert batching_reason(_quiet(DANNClassifier, objective="cdan")) == (
        "objective CDAN is not batched"
    )
    assert batching_reason(StandardScaler()) == "StandardScaler is not a DANN estimator"
    with pytest.raises(ValueError, match=r"^estimators\[1\] cannot be batched: a custom"):
        fit_batched(
            [
                _quiet(DANNClassifier),
                _quiet(DANNClassifier, feature_extractor=torch.nn.Identity()),
            ],
            X,
            y,
            X_target,
        )
    with pytest.raises(
        ValueError,
        match=r"estimators\[1\] differs from estimators\[0\] in a parameter outside "
        r"PER_COPY_PARAMETERS .*: batch_size=16 against 32\.$",
    ):
        fit_batched(
            [_quiet(DANNClassifier), _quiet(DANNClassifier, batch_size=16)], X, y, X_target
        )


def test_label_shift_warnings_come_once_per_estimator_from_the_callers_line(data):
    X, y, _ = data
    rng = np.random.RandomState(1)
    X_target = rng.normal(size=(800, 6)) + 0.3
    positive = X_target[:, 0] + X_target[:, 1] > 0.6
    X_target = np.r_[X_target[positive][:150], X_target[~positive][:15]]  # about 90% positive
    estimators = [DANNClassifier(**SMALL, adversarial_weight=a) for a in (0.1, 1.0)]
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for e in estimators:
            clone(e).fit(X, y, X_target)
        plain = [str(w.message) for w in caught if issubclass(w.category, LabelShiftWarning)]
        caught.clear()
        fit_batched(estimators, X, y, X_target)
    shift = [w for w in caught if issubclass(w.category, LabelShiftWarning)]
    assert len(plain) == len(estimators) and [str(w.message) for w in shift] == plain
    assert all(w.filename == __file__ for w in shift)


GRID = {"adversarial_weight": [0.1, 1.0], "alpha": [1e-4, 1e-2]}


def _search_pair(estimator, grid, X, y, **search_params):
    plain = GridSearchCV(estimator, grid, **search_params).fit(X, y)
    batched = BatchedGridSearchCV(estimator, grid, **search_params).fit(X, y)
    return plain, batched


def _assert_same_search(plain, batched):
    assert sorted(batched.cv_results_) == sorted(plain.cv_results_)
    for key, values in plain.cv_results_.items():
        if key.startswith(("rank_", "param")):
            assert list(batched.cv_results_[key]) == list(values), key
        elif key.startswith(("split", "mean_test", "mean_train")):
            np.testing.assert_allclose(batched.cv_results_[key], values, atol=1e-6, err_msg=key)
    assert batched.best_params_ == plain.best_params_
    assert batched.best_index_ == plain.best_index_
    assert batched.batching_["n_taken"] == batched.batching_["n_batched_fits"] > 0


@pytest.mark.parametrize(
    "refit", ["iw", mean_rank_refit(["iw", "accuracy"])], ids=["scorer name", "callable"]
)
def test_batched_search_gives_gridsearchcvs_results(data, refit):
    X, y = stack_domains(*data)
    plain, batched = _search_pair(
        _quiet(DANNClassifier),
        [GRID, {"learning_rate_init": [0.01, 0.1]}],
        X,
        y,
        cv=DomainStratifiedKFold(3),
        scoring={"iw": importance_weighted_scorer, "accuracy": "accuracy"},
        refit=refit,
        return_train_score=True,
    )
    _assert_same_search(plain, batched)
    assert batched.batching_["groups"] == [[0, 1, 2, 3, 4, 5]]
    np.testing.assert_allclose(
        batched.predict_proba(X), plain.predict_proba(X), atol=1e-6
    )  # the refit is a plain fit of the same best parameters


def test_batched_search_over_a_pipelines_dann_step_with_routed_domains(data):
    X_source, y_source, X_target = data
    X, y = stack_domains(np.r_[X_source, X_source + 0.3], np.r_[y_source, y_source], X_target)
    n = len(X_source)
    domain = np.r_[np.ones(n, int), 2 * np.ones(n, int), -np.ones(len(X_target), int)]
    grid = {f"dannclassifier__{k}": v for k, v in GRID.items()}
    with config_context(enable_metadata_routing=True):
        pipe = make_pipeline(
            StandardScaler(), _quiet(DANNClassifier).set_fit_request(sample_domain=True)
        )
        searches = [
            cls(pipe, grid, cv=DomainStratifiedKFold(2)).fit(X, y, sample_domain=domain)
            for cls in (GridSearchCV, BatchedGridSearchCV)
        ]
    _assert_same_search(*searches)
    batched = searches[1]
    assert batched.best_estimator_[-1].n_domains_ == 3  # the routed domains reached it
    # The scaler was fitted once per fold (in the group's fit ahead) and reused by the
    # search loop's 4 candidates x 2 folds; the refit's pipeline has no memory left.
    assert batched.batching_["n_preprocessing_fits_reused"] == 8
    assert batched.best_estimator_.memory is None


def test_batched_search_falls_back_with_the_reason_and_keeps_error_score(data, capsys):
    X, y = stack_domains(*data)
    grid = [
        {"adversarial_weight": [0.1, 1.0], "learning_rate_init": [0.05, 1e7]},
        {"solver": ["adam"]},
    ]
    estimator = _quiet(DANNClassifier, learning_rate_schedule="constant")  # 1e7 diverges
    with (
        pytest.warns(FitFailedWarning, match="4 fits failed"),
        pytest.warns(UserWarning, match="non-finite"),
    ):
        plain = GridSearchCV(estimator, grid, cv=DomainStratifiedKFold(2)).fit(X, y)
    with (
        pytest.warns(FitFailedWarning, match="4 fits failed"),
        pytest.warns(UserWarning, match="non-finite"),
    ):
        batched = BatchedGridSearchCV(estimator, grid, cv=DomainStratifiedKFold(2), verbose=1)
        batched.fit(X, y)
    out = capsys.readouterr().out
    assert "5 candidates: 4 in 1 batched group(s)" in out
    assert '1 fitted one by one: solver="adam" (only "sgd" is batched)' in out
    _assert_same_search(plain, batched)
    assert np.isnan(batched.cv_results_["mean_test_score"]).sum() == 2
    assert batched.batching_["unbatched"] == {4: 'solver="adam" (only "sgd" is batched)'}


def test_seed_ensemble_trains_its_members_in_one_pass(data, monkeypatch):
    X, y, X_target = data
    calls = []
    original = batched_module.fit_outcomes
    monkeypatch.setattr(
        batched_module,
        "fit_outcomes",
        lambda estimators, *args: calls.append(len(estimators)) or original(estimators, *args),
    )
    ensemble = SeedEnsemble(_quiet(DANNClassifier), n_seeds=3, random_state=0)
    ensemble.fit(X, y, X_target)
    assert calls == [3]
    for member, seed in zip(ensemble.estimators_, ensemble.seeds_, strict=True):
        plain = _quiet(DANNClassifier, random_state=seed).fit(X, y, X_target)
        np.testing.assert_allclose(
            member.predict_proba(X_target), plain.predict_proba(X_target), atol=1e-5
        )
    calls.clear()
    pipeline = SeedEnsemble(
        make_pipeline(StandardScaler(), _quiet(DANNClassifier)), n_seeds=2, random_state=0
    ).fit(*stack_domains(X, y, X_target))
    assert calls == [2]
    assert all(member[0].n_features_in_ == 6 for member in pipeline.estimators_)


# Both searches fail every fit, score nothing and say so before the refit raises.
@pytest.mark.filterwarnings("ignore:Scoring failed", "ignore:One or more of the test scores")
@pytest.mark.filterwarnings("ignore::sklearn.exceptions.FitFailedWarning")
def test_batched_search_on_bad_data_fails_as_gridsearchcv_does(data, capsys):
    X, y = stack_domains(*data)
    X[0, 0] = np.nan
    errors = []
    for cls in (GridSearchCV, BatchedGridSearchCV):
        search = cls(_quiet(DANNClassifier), GRID, cv=DomainStratifiedKFold(2), verbose=1)
        with pytest.raises(ValueError, match=r"Input X contains NaN") as caught:
            search.fit(X, y)
        errors.append(str(caught.value))
    assert errors[1] == errors[0]
    out = capsys.readouterr().out
    assert "a group of 4 could not train together on a fold (ValueError: Input X" in out


def test_a_schedule_joblib_cannot_hash_falls_back_to_one_by_one(data, capsys):
    X, y = stack_domains(*data)
    estimator = _quiet(DANNClassifier, adversarial_schedule=lambda p: min(1.0, 2 * p))
    plain, batched = _search_pair(estimator, GRID, X, y, cv=DomainStratifiedKFold(2), verbose=1)
    assert "could not train together on a fold (PicklingError" in capsys.readouterr().out
    assert batched.batching_["n_batched_fits"] == 0
    assert batched.best_params_ == plain.best_params_
    np.testing.assert_array_equal(
        batched.cv_results_["mean_test_score"], plain.cv_results_["mean_test_score"]
    )
