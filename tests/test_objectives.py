"""The adaptation objectives and labeled target rows, through every public door."""

import re

import numpy as np
import pytest
import scipy.sparse as sp
import torch
from sklearn.base import clone
from sklearn.model_selection import GridSearchCV
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from skorch.callbacks import Callback

from skdann import DANNClassifier, DANNRegressor, load, save, stack_domains
from skdann.model_selection import DomainStratifiedKFold
from skdann.objectives import CDAN, DANN, MCC, OBJECTIVES

from .conftest import rotated_moons

FAST = {"hidden_layer_sizes": (16,), "max_iter": 4, "batch_size": 16, "random_state": 0}
CLASSIFIER_OBJECTIVES = sorted(OBJECTIVES)


class StepProbe(Callback):
    """Record the layout of every training step."""

    def initialize(self):
        self.steps = []
        self.layouts = set()
        return self

    def on_batch_begin(self, net, batch=None, training=None, **kwargs):
        if training:
            X, step = batch
            self.layouts.add(X.layout)
            self.steps.append((len(X), step.n_source, step.n_domain_rows, step.n_labeled))


def _probe(estimator):
    return dict(estimator.net_.callbacks_)["probe"]


@pytest.mark.parametrize("objective", CLASSIFIER_OBJECTIVES)
def test_every_objective_fits_predicts_and_round_trips_a_model_file(
    objective, shifted_blobs, tmp_path
):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**FAST, objective=objective).fit(X_source, y_source, X_target)
    proba = clf.predict_proba(X_target)
    assert proba.shape == (60, 2) and np.isfinite(proba).all()
    assert np.isfinite(clf.history_[:, "train_loss"]).all()
    save(clf, tmp_path / "model.skdann")
    loaded = load(tmp_path / "model.skdann")
    np.testing.assert_array_equal(loaded.predict_proba(X_target), proba)
    assert type(loaded.objective_) is type(clf.objective_)


def test_an_objective_instance_keeps_its_parameters_through_clone_and_model_files(
    shifted_blobs, tmp_path
):
    X_source, y_source, X_target, _ = shifted_blobs
    objective = MCC(temperature=3.0, adversary=CDAN(entropy_conditioning=True))
    clf = DANNClassifier(**FAST, objective=objective)
    assert clone(clf).get_params()["objective__adversary__entropy_conditioning"] is True
    clf.fit(X_source, y_source, X_target)
    assert clf.objective_ is not objective  # the fit trains a copy: the parameter is untouched
    assert not hasattr(objective, "adaptation_weight_")
    save(clf, tmp_path / "mcc.skdann")
    loaded = load(tmp_path / "mcc.skdann")
    assert loaded.objective.get_params()["adversary__entropy_conditioning"] is True
    assert loaded.objective.temperature == 3.0
    np.testing.assert_array_equal(loaded.predict(X_target), clf.predict(X_target))


def test_grid_search_over_objectives_and_their_parameters_in_a_pipeline(shifted_blobs):
    X, y = stack_domains(*shifted_blobs[:3])
    search = GridSearchCV(
        make_pipeline(StandardScaler(), DANNClassifier(**FAST)),
        [
            {"dannclassifier__objective": ["dann", "cdan", "none"]},
            {
                "dannclassifier__objective": [MCC()],
                "dannclassifier__objective__temperature": [1.0, 2.5],
            },
        ],
        cv=DomainStratifiedKFold(n_splits=2, shuffle=True, random_state=0),
    ).fit(X, y)
    assert len(search.cv_results_["params"]) == 5
    assert np.isfinite(search.cv_results_["mean_test_score"]).all()


def test_unknown_objectives_and_regression_only_objectives_are_refused(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    with pytest.raises(ValueError, match=re.escape("The 'objective' parameter of")):
        DANNClassifier(**FAST, objective="cdann").fit(X_source, y_source, X_target)
    for objective in ("cdan", "mcc", MCC(adversary=DANN())):
        message = "reads class probabilities, which DANNRegressor does not have; use 'dann'"
        with pytest.raises(ValueError, match=re.escape(message)):
            DANNRegressor(**FAST, objective=objective).fit(X_source, X_source[:, 0], X_target)
    message = 'label_shift="iwdan" weights a domain loss by class; objective MCC has none.'
    with pytest.raises(ValueError, match=re.escape(message)):
        DANNClassifier(**FAST, objective="mcc", label_shift="iwdan").fit(
            X_source, y_source, X_target
        )


def test_regressor_trains_with_dann_and_none(shifted_blobs):
    X_source, _, X_target, _ = shifted_blobs
    for objective in ("dann", "none"):
        reg = DANNRegressor(**FAST, objective=objective).fit(X_source, X_source[:, 0], X_target)
        assert np.isfinite(reg.predict(X_target)).all()


def test_source_only_objective_has_no_domain_head_and_records_no_domain_loss(shifted_blobs):
    clf = DANNClassifier(**FAST, objective="none").fit(*shifted_blobs[:3])
    assert not hasattr(clf.net_.module_, "domain_head")
    assert np.isnan(clf.history_[-1, "train_domain_loss"])


def _few_labels(n_per_class, seed=0):
    """Moons rotated by 50 degrees, and n_per_class labeled target rows of each class."""
    X_source, y_source, X_target, y_target = rotated_moons(200, angle=50.0, seed=seed)
    rng = np.random.RandomState(seed)
    labeled = np.concatenate(
        [rng.choice(np.flatnonzero(y_target == c), n_per_class, replace=False) for c in (0, 1)]
    )
    y_partial = np.full(len(y_target), -1)
    y_partial[labeled] = y_target[labeled]
    return X_source, y_source, X_target, y_target, y_partial


def test_labeled_target_rows_join_every_step_in_both_forms(shifted_blobs):
    X_source, y_source, X_target, y_target = shifted_blobs
    y_partial = np.full(60, -1)
    y_partial[:3], y_partial[-3:] = y_target[:3], y_target[-3:]
    three = DANNClassifier(**FAST, callbacks=[("probe", StepProbe())])
    three.fit(X_source, y_source, X_target, y_target=y_partial)
    # 16 source rows, 16 target rows, then 16 draws from the 6 labeled target rows.
    assert set(_probe(three).steps) == {(48, 16, 32, 32)}
    X = np.vstack([X_source, X_target])
    y = np.r_[y_source, y_partial]
    sample_domain = np.r_[np.ones(60, int), -np.ones(60, int)]
    stacked = DANNClassifier(**FAST, callbacks=[("probe", StepProbe())])
    stacked.fit(X, y, sample_domain=sample_domain)
    assert set(_probe(stacked).steps) == {(48, 16, 32, 32)}
    np.testing.assert_array_equal(stacked.predict_proba(X_target), three.predict_proba(X_target))


def test_s_plus_t_learns_from_a_few_target_labels():
    X_source, y_source, X_target, y_target, y_partial = _few_labels(10)
    params = {**FAST, "max_iter": 30, "hidden_layer_sizes": (32,), "objective": "none"}
    source_only = DANNClassifier(**params).fit(X_source, y_source, X_target)
    s_plus_t = DANNClassifier(**params).fit(X_source, y_source, X_target, y_target=y_partial)
    unlabeled = y_partial == -1
    gain = s_plus_t.score(X_target[unlabeled], y_target[unlabeled]) - source_only.score(
        X_target[unlabeled], y_target[unlabeled]
    )
    assert gain > 0.05


def test_y_target_is_checked():
    X_source, y_source, X_target, _, y_partial = _few_labels(3)
    with pytest.raises(ValueError, match=re.escape("y_target must hold one value per row")):
        DANNClassifier(**FAST).fit(X_source, y_source, X_target, y_target=y_partial[:-1])
    with pytest.raises(ValueError, match=re.escape("y_target labels rows of X_target")):
        DANNClassifier(**FAST).fit(X_source, y_source, y_target=y_partial)


def test_score_uses_the_labeled_target_rows_when_sample_domain_is_given(shifted_blobs):
    X_source, y_source, X_target, y_target = shifted_blobs
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    X = np.vstack([X_source, X_target])
    y_partial = np.full(60, -1)
    y_partial[::4] = y_target[::4]
    y = np.r_[y_source, y_partial]
    sample_domain = np.r_[np.ones(60, int), -np.ones(60, int)]
    assert clf.score(X, y, sample_domain=sample_domain) == clf.score(X_target[::4], y_target[::4])
    # Without sample_domain every labeled row counts; without labeled target rows, the source.
    assert clf.score(X, y) == clf.score(X[y != -1], y[y != -1])
    y_unlabeled = np.r_[y_source, np.full(60, -1)]
    assert clf.score(X, y_unlabeled, sample_domain=sample_domain) == clf.score(X_source, y_source)


def test_splitter_spreads_labeled_target_rows_over_the_folds():
    X_source, y_source, X_target, _, y_partial = _few_labels(4)
    X = np.vstack([X_source, X_target])
    y = np.r_[y_source, y_partial]
    sample_domain = np.r_[np.ones(len(y_source), int), -np.ones(len(y_partial), int)]
    folds = DomainStratifiedKFold(n_splits=2, shuffle=True, random_state=0)
    labeled_target = (sample_domain < 0) & (y != -1)
    for _, test in folds.split(X, y, sample_domain=sample_domain):
        assert labeled_target[test].sum() == 4  # two per class in each of the two folds


@pytest.mark.parametrize("early_stopping", [False, True])
def test_sparse_steps_stay_csr_with_and_without_early_stopping(shifted_blobs, early_stopping):
    # Before the objective seam, the early-stopping split dropped the CSR flag, so every
    # step reached the first layer densified.
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(
        **FAST,
        early_stopping=early_stopping,
        validation_fraction=0.2,
        callbacks=[("probe", StepProbe())],
    ).fit(sp.csr_matrix(X_source), y_source, sp.csr_matrix(X_target))
    assert _probe(clf).layouts == {torch.sparse_csr}


def test_a_sparse_source_with_a_dense_target_trains_as_one_sparse_matrix(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    mixed = DANNClassifier(**FAST).fit(sp.csr_matrix(X_source), y_source, X_target)
    dense = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    np.testing.assert_allclose(
        mixed.predict_proba(X_target), dense.predict_proba(X_target), atol=1e-5
    )


class _CtrlC(Callback):
    def on_epoch_end(self, net, **kwargs):
        if len(net.history) == 2:
            raise KeyboardInterrupt


def test_ctrl_c_stops_the_caller_and_the_previous_model_survives(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    clf = DANNClassifier(**FAST).fit(X_source, y_source, X_target)
    before = clf.predict_proba(X_target)
    clf.set_params(callbacks=[_CtrlC()], max_iter=6)
    with pytest.raises(KeyboardInterrupt):
        clf.fit(X_source, y_source, X_target)
    np.testing.assert_array_equal(clf.predict_proba(X_target), before)
    assert clf.n_iter_ == FAST["max_iter"]
    search = GridSearchCV(
        DANNClassifier(**FAST, callbacks=[_CtrlC()]),
        {"adversarial_weight": [0.1, 1.0]},
        cv=DomainStratifiedKFold(n_splits=2),
    )
    with pytest.raises(KeyboardInterrupt):
        search.fit(*stack_domains(X_source, y_source, X_target))
    assert not hasattr(search, "best_params_")


def test_fits_in_threads_are_each_reproducible(shifted_blobs):
    from joblib import Parallel, delayed

    X_source, y_source, X_target, _ = shifted_blobs
    model = DANNClassifier(**FAST, dropout=0.3)
    serial = clone(model).fit(X_source, y_source, X_target).predict_proba(X_target)
    fitted = Parallel(n_jobs=4, backend="threading")(
        delayed(clone(model).fit)(X_source, y_source, X_target) for _ in range(4)
    )
    for clf in fitted:
        np.testing.assert_array_equal(clf.predict_proba(X_target), serial)


def test_a_routed_search_scores_the_labeled_target_rows_of_each_fold(shifted_blobs):
    import sklearn

    X_source, y_source, X_target, y_target = shifted_blobs
    y_partial = np.full(60, -1)
    y_partial[::3] = y_target[::3]
    X = np.vstack([X_source, X_target])
    y = np.r_[y_source, y_partial]
    sample_domain = np.r_[np.ones(60, int), -np.ones(60, int)]
    folds = list(
        DomainStratifiedKFold(n_splits=2, shuffle=True, random_state=0).split(
            X, y, sample_domain=sample_domain
        )
    )
    with sklearn.config_context(enable_metadata_routing=True):
        search = GridSearchCV(
            DANNClassifier(**FAST), {"adversarial_weight": [1.0]}, cv=folds, refit=False
        ).fit(X, y, sample_domain=sample_domain)
    expected = []
    for train, test in folds:
        clf = DANNClassifier(**FAST).fit(X[train], y[train], sample_domain=sample_domain[train])
        rows = test[(sample_domain[test] < 0) & (y[test] != -1)]
        expected.append(clf.score(X[rows], y[rows]))
    assert search.cv_results_["mean_test_score"][0] == pytest.approx(np.mean(expected))


def test_a_wide_randomized_cdan_map_saves_and_loads(shifted_blobs, tmp_path):
    # The model file's size check counts the heads the objective builds (a randomized map
    # of 5000 entries here), not a guess at them.
    X_source, y_source, X_target, _ = shifted_blobs
    objective = CDAN(max_map_dim=8, randomized_dim=5000)
    clf = DANNClassifier(**FAST, objective=objective).fit(X_source, y_source, X_target)
    save(clf, tmp_path / "wide.skdann")
    loaded = load(tmp_path / "wide.skdann")
    np.testing.assert_array_equal(loaded.predict_proba(X_target), clf.predict_proba(X_target))
