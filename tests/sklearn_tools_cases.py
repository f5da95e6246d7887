"""scikit-learn's meta-estimators and tools on DANN estimators: what works, and how.

One list, two readers: ``tests/test_sklearn_tools.py`` runs every tool's
``check`` (which asserts the behaviour its verdict describes, so a verdict
cannot outlive the behaviour), and ``docs/make_compatibility.py`` renders the
list as ``docs/compatibility.rst`` (a test checks the committed page matches).
"""

import warnings
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
from sklearn.calibration import CalibratedClassifierCV
from sklearn.compose import TransformedTargetRegressor
from sklearn.ensemble import BaggingClassifier, StackingClassifier, VotingClassifier
from sklearn.frozen import FrozenEstimator
from sklearn.inspection import permutation_importance
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import (
    GridSearchCV,
    cross_val_score,
    cross_validate,
    learning_curve,
)
from sklearn.multioutput import MultiOutputRegressor
from sklearn.preprocessing import StandardScaler
from sklearn.semi_supervised import SelfTrainingClassifier

from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann.metrics import labeled_scorer, recommended_scorer
from skdann.model_selection import DomainStratifiedKFold

__all__ = ["TOOLS", "VERDICTS", "Tool"]

VERDICTS = ("works", "works with care", "fails")


class Tool(NamedTuple):
    """A scikit-learn tool on a DANN estimator.

    Attributes
    ----------
    name : str
        The tool, as reStructuredText (a ``:class:`` or ``:func:`` role).
    verdict : str
        One of ``VERDICTS``.
    how : str
        What works (the form of ``fit``, the options), or what goes wrong.
    check : callable
        Runs the tool on tiny data and asserts what ``verdict`` and ``how`` say.
    """

    name: str
    verdict: str
    how: str
    check: Callable[[], None]


FAST = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 16, "random_state": 0}
_rng = np.random.RandomState(0)
X_SOURCE = _rng.normal(size=(40, 4))
X_TARGET = _rng.normal(size=(40, 4)) + 0.5
Y_SOURCE = (X_SOURCE[:, 0] > 0).astype(int)
Y_TARGET = (X_TARGET[:, 0] > 0).astype(int)
Y_REG = X_SOURCE @ [1.0, -1.0, 0.5, 0.0] + 10.0
X, Y = stack_domains(X_SOURCE, Y_SOURCE, X_TARGET)
_, Y_STACKED_REG = stack_domains(X_SOURCE, Y_REG, X_TARGET, regression=True)
CV = DomainStratifiedKFold(2, shuffle=True, random_state=0)
_SOURCE_ONLY = "y contains no target rows"


def _clf():
    return DANNClassifier(**FAST, label_shift_warning=None)


def _reg():
    return DANNRegressor(**FAST)


def _quiet(call):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", UserWarning)
        return call()


def _source_only_warned(call):
    """Run ``call``; return whether some fit trained source-only (no target rows)."""
    with warnings.catch_warnings(record=True) as record:
        warnings.simplefilter("always")
        call()
    return any(_SOURCE_ONLY in str(w.message) for w in record)


def _grid_search():
    search = GridSearchCV(_clf(), {"alpha": [1e-4, 1e-2]}, scoring=recommended_scorer, cv=CV)
    assert len(search.fit(X, Y).cv_results_["mean_test_score"]) == 2
    # scoring="accuracy" counts every target row (y == -1) as an error; labeled_scorer does not.
    plain = GridSearchCV(_clf(), {"alpha": [1e-4]}, scoring="accuracy", cv=CV).fit(X, Y)
    labeled = GridSearchCV(_clf(), {"alpha": [1e-4]}, scoring=labeled_scorer("accuracy"), cv=CV)
    labeled.fit(X, Y)
    assert plain.best_score_ <= 0.5  # half of each fold's rows are target rows
    assert plain.best_score_ < labeled.best_score_


def _cross_val_score():
    scores = cross_val_score(_clf(), X, Y, cv=CV)  # score: accuracy on the labeled rows
    assert scores.shape == (2,) and (scores > 0).all()


def _cross_validate():
    result = cross_validate(_reg(), X, Y_STACKED_REG, cv=CV, scoring=recommended_scorer)
    assert np.isfinite(result["test_score"]).all()


def _learning_curve():
    # Without shuffling, small training sizes take the first (source) rows only.
    assert _source_only_warned(lambda: learning_curve(_clf(), X, Y, cv=CV, train_sizes=[0.3]))
    sizes, *_ = learning_curve(
        _clf(), X, Y, cv=CV, train_sizes=[0.5, 1.0], shuffle=True, random_state=0
    )
    assert list(sizes) == [20, 40]


def _permutation_importance():
    model = _quiet(lambda: _clf().fit(X_SOURCE, Y_SOURCE, X_TARGET))
    result = permutation_importance(model, X_TARGET, Y_TARGET, n_repeats=2, random_state=0)
    assert result.importances_mean.shape == (4,)


def _calibrated():
    # Stacked: the marker -1 becomes a class of the calibrated model.
    assert -1 in _quiet(lambda: CalibratedClassifierCV(_clf(), cv=2).fit(X, Y)).classes_
    # A fitted model, frozen, calibrated on labeled rows: the way to do it.
    model = _quiet(lambda: _clf().fit(X_SOURCE, Y_SOURCE, X_TARGET))
    calibrated = CalibratedClassifierCV(FrozenEstimator(model)).fit(X_SOURCE, Y_SOURCE)
    assert list(calibrated.classes_) == [0, 1]


def _encodes_the_marker(meta):
    """Stacked rows: the meta-estimator label-encodes y, -1 becomes a class."""

    def check():
        fitted = _quiet(lambda: meta().fit(X, Y))
        assert -1 in fitted.classes_
        assert _source_only_warned(lambda: meta().fit(X, Y))  # members see no target rows

    return check


def _self_training():
    # SelfTrainingClassifier also reads -1 as unlabeled, and fits its estimator on the
    # labeled rows only: the DANN never sees a target row.
    assert _source_only_warned(lambda: SelfTrainingClassifier(_clf(), max_iter=1).fit(X, Y))


def _transformed_target():
    def fit_stacked():
        return TransformedTargetRegressor(_reg(), transformer=StandardScaler()).fit(
            X, Y_STACKED_REG
        )

    try:
        fit_stacked()
    except ValueError as exc:  # NaN markers are refused by the target transformer
        assert "contains NaN" in str(exc)
    else:
        raise AssertionError("TransformedTargetRegressor accepted NaN targets")
    model = TransformedTargetRegressor(_reg(), func=np.log, inverse_func=np.exp)
    predictions = model.fit(X_SOURCE, Y_REG, X_target=X_TARGET).predict(X_TARGET)
    assert predictions.shape == (40,) and (predictions > 0).all()


def _multi_output():
    y = np.c_[Y_REG, -Y_REG]
    model = MultiOutputRegressor(_reg()).fit(X_SOURCE, y, X_target=X_TARGET)
    assert model.predict(X_TARGET).shape == (40, 2)
    try:
        MultiOutputRegressor(_reg()).fit(X, np.c_[Y_STACKED_REG, Y_STACKED_REG])
    except ValueError as exc:
        assert "contains NaN" in str(exc)
    else:
        raise AssertionError("MultiOutputRegressor accepted NaN targets")


def _frozen():
    model = _quiet(lambda: _clf().fit(X, Y))
    frozen = FrozenEstimator(model).fit(X_TARGET, Y_TARGET)  # fit does nothing
    np.testing.assert_array_equal(frozen.predict(X_TARGET), model.predict(X_TARGET))


TOOLS = [
    Tool(
        ":class:`~sklearn.model_selection.GridSearchCV`",
        "works with care",
        "Stacked rows, ``cv=DomainStratifiedKFold(...)``, a label-free scorer "
        "(``recommended_scorer``) or the default ``score``. A plain metric name "
        '(``scoring="accuracy"``) counts every target row as an error: wrap it, '
        '``labeled_scorer("accuracy")``.',
        _grid_search,
    ),
    Tool(
        ":func:`~sklearn.model_selection.cross_val_score`",
        "works",
        "Stacked rows and ``DomainStratifiedKFold``; the default ``score`` reads the labeled "
        "rows only.",
        _cross_val_score,
    ),
    Tool(
        ":func:`~sklearn.model_selection.cross_validate`",
        "works",
        "As ``cross_val_score``; regressors too (NaN marks target rows).",
        _cross_validate,
    ),
    Tool(
        ":func:`~sklearn.model_selection.learning_curve`",
        "works with care",
        "Pass ``shuffle=True``: otherwise a small training size takes the first rows of the "
        "fold, all source rows, and the model trains source-only (skdann warns).",
        _learning_curve,
    ),
    Tool(
        ":func:`~sklearn.inspection.permutation_importance`",
        "works",
        "On labeled rows (e.g. labeled target rows held out for evaluation).",
        _permutation_importance,
    ),
    Tool(
        ":class:`~sklearn.calibration.CalibratedClassifierCV`",
        "fails",
        "On stacked rows the marker ``-1`` becomes a class. Calibrate a fitted model "
        "instead: ``CalibratedClassifierCV(FrozenEstimator(model)).fit(X_labeled, "
        "y_labeled)``.",
        _calibrated,
    ),
    Tool(
        ":class:`~sklearn.ensemble.BaggingClassifier`",
        "fails",
        "It label-encodes ``y``: ``-1`` becomes a class and the members see no target rows. "
        "Use :class:`skdann.ensemble.SeedEnsemble` to average DANN models.",
        _encodes_the_marker(lambda: BaggingClassifier(_clf(), n_estimators=2, random_state=0)),
    ),
    Tool(
        ":class:`~sklearn.ensemble.StackingClassifier`",
        "fails",
        "As ``BaggingClassifier``: ``-1`` becomes a class, the members train source-only.",
        _encodes_the_marker(
            lambda: StackingClassifier([("dann", _clf())], LogisticRegression(), cv=2)
        ),
    ),
    Tool(
        ":class:`~sklearn.ensemble.VotingClassifier`",
        "fails",
        "As ``BaggingClassifier``: ``-1`` becomes a class, the members train source-only.",
        _encodes_the_marker(lambda: VotingClassifier([("dann", _clf())])),
    ),
    Tool(
        ":class:`~sklearn.semi_supervised.SelfTrainingClassifier`",
        "fails",
        "It fits its estimator on the labeled rows only, so the DANN never sees a target row "
        "(skdann warns that it trains source-only).",
        _self_training,
    ),
    Tool(
        ":class:`~sklearn.compose.TransformedTargetRegressor`",
        "works with care",
        "Three-argument form only: ``fit(X_source, y_source, X_target=X_target)``. Stacked "
        "rows fail: the target transformer refuses the NaN markers.",
        _transformed_target,
    ),
    Tool(
        ":class:`~sklearn.multioutput.MultiOutputRegressor`",
        "works with care",
        "Three-argument form only (``X_target=`` is passed to every member); stacked rows "
        "fail on the NaN markers. ``DANNRegressor`` fits several outputs itself.",
        _multi_output,
    ),
    Tool(
        ":class:`~sklearn.frozen.FrozenEstimator`",
        "works",
        "Wraps a fitted model; its ``fit`` does nothing, ``predict`` is the model's.",
        _frozen,
    ),
]
"""Every tool, in the page's order."""
