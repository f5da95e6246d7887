"""Every bad input skdann checks, with the exception and message it raises.

One list, two readers: ``tests/test_bad_input_matrix.py`` performs each call
and asserts its exception type and message, and the Sphinx extension
``docs/_ext/bad_input_page.py`` renders the list as the "Bad input" page of
the documentation. A message changed in ``skdann/`` fails the test until it
is changed here too, and the page follows, so the page cannot drift.

Each case builds its own small synthetic data; the calls run only when a
test calls them (importing this module fits nothing).
"""

import functools
import importlib.util
from collections.abc import Callable
from typing import NamedTuple

import numpy as np
import pandas as pd
import torch
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils._param_validation import InvalidParameterError
from skorch.callbacks import Callback

from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann.ensemble import SeedEnsemble
from skdann.label_shift import estimate_target_proportions, total_variation
from skdann.metrics import labeled_scorer, prediction_entropy_scorer
from skdann.model_selection import DomainStratifiedKFold
from skdann.plotting import FeatureEmbeddingDisplay

__all__ = ["CASES", "CATEGORIES", "Case"]


class Case(NamedTuple):
    """One bad input and what skdann answers.

    Attributes
    ----------
    title : str
        The bad input, in words (reStructuredText inline markup allowed).
    estimator : str
        Where it is caught, a key of ``CATEGORIES``.
    call : callable
        Performs the bad call, with no arguments.
    exception : type
        The exception raised, or the warning category warned.
    message : str
        The whole message, or (``prefix=True``) its documented beginning.
    prefix : bool
        Whether ``message`` is only the beginning of the message (the rest
        names a set in arbitrary order, or is scikit-learn's advice).
    skip_reason : str or None
        Why the call cannot be made on this machine (the case is still
        documented), or ``None``.
    """

    title: str
    estimator: str
    call: Callable[[], object]
    exception: type
    message: str
    prefix: bool = False
    skip_reason: str | None = None


CATEGORIES = {
    "classifier": "DANNClassifier",
    "regressor": "DANNRegressor",
    "stack_domains": "stack_domains",
    "scorer": "Scorers (skdann.metrics)",
    "splitter": "DomainStratifiedKFold",
    "ensemble": "SeedEnsemble",
    "label_shift": "Label shift (skdann.label_shift)",
    "plots": "Plots (skdann.plotting)",
}
"""Section title of each ``Case.estimator`` value, in page order."""

FAST = {
    "hidden_layer_sizes": (4,),
    "domain_hidden_layer_sizes": (4,),
    "max_iter": 1,
    "batch_size": 16,
    "random_state": 0,
    "device": "cpu",
}

_rng = np.random.RandomState(0)
X_SOURCE = _rng.normal(size=(30, 4))
Y_SOURCE = np.arange(30) % 2
X_TARGET = _rng.normal(size=(30, 4)) + 1.0
Y_REG = X_SOURCE @ [1.0, -1.0, 0.5, 0.0]
COLUMNS = ["a", "b", "c", "d"]
X_STACKED, Y_STACKED = stack_domains(X_SOURCE, Y_SOURCE, X_TARGET)  # 30 source, 30 target
_, Y_STACKED_REG = stack_domains(X_SOURCE, Y_REG, X_TARGET, regression=True)
SAMPLE_DOMAIN = np.repeat([1, 2, -1], [18, 12, 30])


def _with(X, row, col, value):
    X = X.copy()
    X[row, col] = value
    return X


def _frame(X, columns=COLUMNS):
    return pd.DataFrame(X, columns=columns)


def _clf(**params):
    return DANNClassifier(**{**FAST, **params})


def _reg(**params):
    return DANNRegressor(**{**FAST, **params})


@functools.cache
def fitted_classifier():
    """A tiny classifier fitted on arrays."""
    return _clf().fit(X_SOURCE, Y_SOURCE, X_TARGET)


@functools.cache
def fitted_frame_classifier():
    """A tiny classifier fitted on DataFrames with columns a, b, c, d."""
    return _clf().fit(_frame(X_SOURCE), Y_SOURCE, _frame(X_TARGET))


@functools.cache
def fitted_regressor():
    """A tiny regressor fitted on arrays."""
    return _reg().fit(X_SOURCE, Y_REG, X_TARGET)


@functools.cache
def fitted_regressor_2d():
    """A tiny regressor with two outputs, fitted on arrays."""
    return _reg().fit(X_SOURCE, np.c_[Y_REG, -Y_REG], X_TARGET)


def _text_frame(X=X_SOURCE):
    frame = _frame(X).astype({"b": object})
    frame.loc[3, "b"] = "abc"
    return frame


def _fit_classifier(X=X_SOURCE, y=Y_SOURCE, X_target=X_TARGET, **params):
    return lambda: _clf(**params).fit(X, y, X_target)


def _fit_regressor(X=X_SOURCE, y=Y_REG, X_target=X_TARGET, **params):
    return lambda: _reg(**params).fit(X, y, X_target)


def _fit_stacked(sample_domain=None, sample_weight=None, **params):
    def call():
        return _clf(**params).fit(
            X_STACKED, Y_STACKED, sample_domain=sample_domain, sample_weight=sample_weight
        )

    return call


def _bad_parameter(estimator, name, value, must_be, prefix=False):
    """A parameter that fails scikit-learn's validation (``InvalidParameterError``)."""
    cls = {"classifier": DANNClassifier, "regressor": DANNRegressor}[estimator]
    message = f"The {name!r} parameter of {cls.__name__} must be {must_be}"
    if not prefix:
        message += f". Got {value!r} instead."
    call = (_fit_classifier if estimator == "classifier" else _fit_regressor)(**{name: value})
    return Case(f"``{name}={value!r}``", estimator, call, InvalidParameterError, message, prefix)


class _NaNOnLastStep(Callback):
    """Make the label head's weights NaN after the very last training step."""

    def initialize(self):
        self.steps_ = 0
        return self

    def on_batch_end(self, net, training=None, **kwargs):
        self.steps_ += bool(training)
        if self.steps_ == 2:  # 30 rows per domain, batch 16, one epoch: two steps
            with torch.no_grad():
                net.module_.label_head.weight.fill_(float("nan"))


_ADVICE = (
    "Unscaled inputs are the usual cause: scale your inputs (StandardScaler) first; then "
    'try a lower learning_rate_init or adversarial_weight, or solver="adam".'
)
_ONE_CLASS = (
    "The source labels contain only one class ({}); DANNClassifier needs at least two classes."
)
_NO_MATPLOTLIB = None if importlib.util.find_spec("matplotlib") else "matplotlib is not installed"
_CUDA_SKIP = "CUDA is available on this machine" if torch.cuda.is_available() else None


CLASSIFIER_CASES = [
    Case(
        "NaN in ``X``",
        "classifier",
        _fit_classifier(X=_with(X_SOURCE, 3, 1, np.nan)),
        ValueError,
        "Input X contains NaN.",
        prefix=True,
    ),
    Case(
        "Infinity in ``X``",
        "classifier",
        _fit_classifier(X=_with(X_SOURCE, 3, 1, np.inf)),
        ValueError,
        "Input X contains infinity or a value too large for dtype('float32').",
    ),
    Case(
        "NaN in ``X_target``",
        "classifier",
        _fit_classifier(X_target=_with(X_TARGET, 0, 0, np.nan)),
        ValueError,
        "Input X_target contains NaN.",
        prefix=True,
    ),
    Case(
        "Infinity in ``X_target``",
        "classifier",
        _fit_classifier(X_target=_with(X_TARGET, 0, 0, -np.inf)),
        ValueError,
        "Input X_target contains infinity or a value too large for dtype('float32').",
    ),
    Case(
        "NaN in ``X`` at prediction",
        "classifier",
        lambda: fitted_classifier().predict(_with(X_TARGET, 0, 0, np.nan)),
        ValueError,
        "Input X contains NaN.",
        prefix=True,
    ),
    Case(
        "1-D ``X``",
        "classifier",
        _fit_classifier(X=X_SOURCE[:, 0]),
        ValueError,
        "Expected 2D array, got 1D array instead:",
        prefix=True,
    ),
    Case(
        "``X`` with no rows",
        "classifier",
        _fit_classifier(X=X_SOURCE[:0], y=Y_SOURCE[:0]),
        ValueError,
        "Found array with 0 sample(s) (shape=(0, 4)) while a minimum of 1 is required by "
        "DANNClassifier.",
    ),
    Case(
        "``X`` and ``y`` of different lengths",
        "classifier",
        _fit_classifier(y=Y_SOURCE[:-1]),
        ValueError,
        "Found input variables with inconsistent numbers of samples: [30, 29]",
    ),
    Case(
        "``y=None``",
        "classifier",
        _fit_classifier(y=None),
        ValueError,
        "This DANNClassifier estimator requires y to be passed, but the target y is None.",
    ),
    Case(
        "``X_target`` with fewer features than ``X``",
        "classifier",
        _fit_classifier(X_target=X_TARGET[:, :3]),
        ValueError,
        "X_target has 3 features, but X_source has 4 features; both domains need the same "
        "features.",
    ),
    Case(
        "``X`` with fewer features at prediction than at fit",
        "classifier",
        lambda: fitted_classifier().predict(X_TARGET[:, :3]),
        ValueError,
        "X has 3 features, but DANNClassifier is expecting 4 features as input.",
    ),
    Case(
        "DataFrames ``X`` and ``X_target`` with different columns",
        "classifier",
        _fit_classifier(X=_frame(X_SOURCE), X_target=_frame(X_TARGET, ["a", "b", "c", "e"])),
        ValueError,
        "X_target's columns differ from X's (only in the source: ['d']; only in the target: "
        "['e']).",
    ),
    Case(
        "DataFrames ``X`` and ``X_target`` with the same columns in another order",
        "classifier",
        _fit_classifier(X=_frame(X_SOURCE), X_target=_frame(X_TARGET)[["b", "a", "c", "d"]]),
        ValueError,
        "X_target's columns differ from X's (same names in another order).",
    ),
    Case(
        "A DataFrame ``X`` with a text column",
        "classifier",
        _fit_classifier(X=_text_frame()),
        ValueError,
        "X column 'b' holds text ('abc' in row 3); DANN estimators take numbers: encode it "
        "first, e.g. with OneHotEncoder in a ColumnTransformer before the estimator in a "
        "Pipeline.",
    ),
    Case(
        "A DataFrame ``X_target`` with a text column",
        "classifier",
        _fit_classifier(X=_frame(X_SOURCE), X_target=_text_frame(X_TARGET)),
        ValueError,
        "X_target column 'b' holds text ('abc' in row 3); DANN estimators take numbers: encode "
        "it first, e.g. with OneHotEncoder in a ColumnTransformer before the estimator in a "
        "Pipeline.",
    ),
    Case(
        "A DataFrame ``X`` with an array ``X_target`` (a warning)",
        "classifier",
        _fit_classifier(X=_frame(X_SOURCE), X_target=X_TARGET),
        UserWarning,
        "X is a DataFrame but X_target is not: X_target's columns are matched to X's by "
        "position, not by name. Pass both as DataFrames to have the names checked.",
    ),
    Case(
        "A DataFrame at prediction with other columns than at fit",
        "classifier",
        lambda: fitted_frame_classifier().predict(_frame(X_TARGET, ["a", "b", "c", "e"])),
        ValueError,
        "The feature names should match those that were passed during fit.",
        prefix=True,
    ),
    Case(
        "Predicting before ``fit``",
        "classifier",
        lambda: DANNClassifier().predict(X_TARGET),
        NotFittedError,
        "This DANNClassifier instance is not fitted yet. Call 'fit' with appropriate "
        "arguments before using this estimator.",
    ),
    Case(
        "Every row of ``y`` is ``-1`` (no labeled source row)",
        "classifier",
        _fit_classifier(y=np.full(30, -1), X_target=None),
        ValueError,
        "y has no labeled source rows: every row is marked -1 (target). DANNClassifier needs "
        "labeled source rows to learn from.",
    ),
    Case(
        "``y`` marks target rows (``-1``) and ``X_target`` is given too",
        "classifier",
        _fit_classifier(y=np.tile([-1, 1], 15)),
        ValueError,
        "y contains the label -1, which marks target rows, and X_target was given too: with "
        "X_target, y must hold source labels only (labels of target rows go in y_target).",
    ),
    Case(
        "Source labels of one class",
        "classifier",
        _fit_classifier(y=np.full(30, 3)),
        ValueError,
        _ONE_CLASS.format(3),
    ),
    Case(
        "Labels ``{-1, 1}`` (``-1`` is the target marker)",
        "classifier",
        _fit_classifier(y=np.where(Y_SOURCE == 0, -1, 1), X_target=None),
        ValueError,
        _ONE_CLASS.format(1)
        + " The label -1 was read as the target marker on 15 rows: y == -1 marks unlabeled "
        "target rows. If -1 is one of your classes, re-encode the labels first, e.g. with "
        "LabelEncoder or y = (y == 1).astype(int).",
    ),
    Case(
        "Continuous labels",
        "classifier",
        _fit_classifier(y=np.linspace(0, 1, 30)),
        ValueError,
        "Unknown label type: continuous.",
        prefix=True,
    ),
    Case(
        "``y`` has no target rows and no ``X_target`` is given (a warning)",
        "classifier",
        _fit_classifier(X_target=None),
        UserWarning,
        "y contains no target rows (y == -1) and no X_target was given; training "
        "source-only, without the adversarial loss.",
    ),
    Case(
        "A zero in ``hidden_layer_sizes``",
        "classifier",
        _fit_classifier(hidden_layer_sizes=(4, 0)),
        ValueError,
        "hidden_layer_sizes must hold positive integers, got (4, 0).",
    ),
    Case(
        "A float in ``hidden_layer_sizes``",
        "classifier",
        _fit_classifier(hidden_layer_sizes=(4.5,)),
        ValueError,
        "hidden_layer_sizes must hold positive integers, got (4.5,).",
    ),
    Case(
        "Empty ``hidden_layer_sizes``",
        "classifier",
        _fit_classifier(hidden_layer_sizes=()),
        ValueError,
        "hidden_layer_sizes must hold at least one layer size, got ().",
    ),
    Case(
        "A zero in ``domain_hidden_layer_sizes``",
        "classifier",
        _fit_classifier(domain_hidden_layer_sizes=(0,)),
        ValueError,
        "domain_hidden_layer_sizes must hold positive integers, got (0,).",
    ),
    Case(
        "A ``feature_extractor`` whose output is not 2-D",
        "classifier",
        _fit_classifier(feature_extractor=torch.nn.Unflatten(1, (2, 2))),
        ValueError,
        "feature_extractor must return a 2-D tensor of shape (n_samples, n_features_out); "
        "for input of shape (2, 4) it returned (2, 2, 2).",
    ),
    Case(
        "A ``feature_extractor`` that returns a tuple",
        "classifier",
        _fit_classifier(feature_extractor=torch.nn.LSTM(4, 3)),
        ValueError,
        "feature_extractor must return a 2-D tensor of shape (n_samples, n_features_out); "
        "for input of shape (2, 4) it returned tuple.",
    ),
    Case(
        "A ``feature_extractor`` factory that returns no module",
        "classifier",
        _fit_classifier(feature_extractor=lambda n_features: 3),
        TypeError,
        "feature_extractor must be a torch.nn.Module or a callable returning one; the "
        "callable returned int.",
    ),
    Case(
        "``class_weight`` naming a label that is not a class",
        "classifier",
        _fit_classifier(class_weight={0: 1.0, 7: 2.0}),
        ValueError,
        "class_weight names labels that are not among the source classes [0, 1]: ['7'].",
    ),
    Case(
        "A negative weight in ``class_weight``",
        "classifier",
        _fit_classifier(class_weight={0: -1.0, 1: 1.0}),
        ValueError,
        "class_weight must hold finite, non-negative weights; class 0 has -1.0.",
    ),
    Case(
        "NaN in ``class_weight``",
        "classifier",
        _fit_classifier(class_weight={0: 1.0, 1: np.nan}),
        ValueError,
        "class_weight must hold finite, non-negative weights; class 1 has nan.",
    ),
    Case(
        "``class_weight`` zero for every class",
        "classifier",
        _fit_classifier(class_weight={0: 0.0, 1: 0.0}),
        ValueError,
        "class_weight is zero for every class of the source rows: nothing to learn from.",
    ),
    Case(
        "NaN as the target marker in ``y`` (the regressor's marker)",
        "classifier",
        _fit_classifier(
            y=np.where(Y_STACKED == -1, np.nan, Y_STACKED), X=X_STACKED, X_target=None
        ),
        ValueError,
        "y contains 30 missing labels (NaN or None); DANNClassifier marks target rows with -1 "
        "(NaN marks them for DANNRegressor only): set y[missing] = -1, or use "
        "stack_domains(X_source, y_source, X_target).",
    ),
    Case(
        "``None`` as the target marker in ``y``",
        "classifier",
        _fit_classifier(
            y=np.array([None if v == -1 else v for v in Y_STACKED], dtype=object),
            X=X_STACKED,
            X_target=None,
        ),
        ValueError,
        "y contains 30 missing labels (NaN or None); DANNClassifier marks target rows with -1 "
        "(NaN marks them for DANNRegressor only): set y[missing] = -1, or use "
        "stack_domains(X_source, y_source, X_target).",
    ),
    Case(
        "``score`` with ``sample_weight`` of the wrong length",
        "classifier",
        lambda: fitted_classifier().score(X_STACKED, Y_STACKED, sample_weight=np.ones(5)),
        ValueError,
        "sample_weight must hold one weight per row of X: got shape (5,) for 60 rows.",
    ),
    Case(
        "``sample_domain`` with the 3-argument form",
        "classifier",
        lambda: _clf().fit(X_SOURCE, Y_SOURCE, X_TARGET, sample_domain=SAMPLE_DOMAIN[:30]),
        ValueError,
        "sample_domain applies to the stacked form only; with X_target, stack the domains "
        "(stack_domains) and give one id per row.",
    ),
    Case(
        "``sample_domain`` of the wrong length",
        "classifier",
        _fit_stacked(sample_domain=SAMPLE_DOMAIN[:-1]),
        ValueError,
        "sample_domain must hold one domain id per row of X: got shape (59,) for 60 rows.",
    ),
    Case(
        "``sample_domain`` of floats",
        "classifier",
        _fit_stacked(sample_domain=SAMPLE_DOMAIN.astype(float)),
        ValueError,
        "sample_domain must hold integer domain ids (positive for source domains, negative "
        "for target domains); got dtype float64.",
    ),
    Case(
        "``sample_domain`` holding 0",
        "classifier",
        _fit_stacked(sample_domain=np.where(SAMPLE_DOMAIN == 2, 0, SAMPLE_DOMAIN)),
        ValueError,
        "sample_domain must not contain 0: positive ids mark source domains, negative ids "
        "target domains.",
    ),
    Case(
        "A source (positive) ``sample_domain`` on a target row",
        "classifier",
        _fit_stacked(sample_domain=np.where(np.arange(60) == 59, 1, SAMPLE_DOMAIN)),
        ValueError,
        "1 rows have a positive (source) sample_domain but a target marker in y (first at "
        "row 59); source rows need labels.",
    ),
    Case(
        "A ``sample_domain`` id on a single row",
        "classifier",
        _fit_stacked(sample_domain=np.where(np.arange(60) == 0, 5, SAMPLE_DOMAIN)),
        ValueError,
        "Domain 5 of sample_domain has a single row; every domain needs at least two rows.",
    ),
    Case(
        "``sample_weight`` of the wrong length",
        "classifier",
        _fit_stacked(sample_weight=np.ones(5)),
        ValueError,
        "sample_weight must hold one weight per row of X: got shape (5,) for 60 rows.",
    ),
    Case(
        "``sample_weight`` of strings",
        "classifier",
        _fit_stacked(sample_weight=np.array(["a"] * 60)),
        ValueError,
        "sample_weight must be numeric, got dtype <U1.",
    ),
    Case(
        "NaN in ``sample_weight``",
        "classifier",
        _fit_stacked(sample_weight=np.r_[np.nan, np.ones(59)]),
        ValueError,
        "sample_weight contains NaN or infinite values.",
    ),
    Case(
        "Infinity in ``sample_weight``",
        "classifier",
        _fit_stacked(sample_weight=np.r_[np.inf, np.ones(59)]),
        ValueError,
        "sample_weight contains NaN or infinite values.",
    ),
    Case(
        "A negative ``sample_weight``",
        "classifier",
        _fit_stacked(sample_weight=np.r_[-1.0, np.ones(59)]),
        ValueError,
        "sample_weight must be non-negative; its minimum is -1.0.",
    ),
    Case(
        "``sample_weight`` zero on every source row",
        "classifier",
        _fit_stacked(sample_weight=np.r_[np.zeros(30), np.ones(30)]),
        ValueError,
        "sample_weight is zero on every source row: nothing to learn from.",
    ),
    Case(
        "``sample_weight`` zero on every target row",
        "classifier",
        _fit_stacked(sample_weight=np.r_[np.ones(30), np.zeros(30)]),
        ValueError,
        "sample_weight is zero on every target row: nothing to adapt to.",
    ),
    Case(
        "``device`` that is not a torch device",
        "classifier",
        _fit_classifier(device="banana"),
        ValueError,
        "device='banana' is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'.",
    ),
    Case(
        "``device='cuda'`` on a machine without CUDA",
        "classifier",
        _fit_classifier(device="cuda"),
        ValueError,
        "device='cuda', but CUDA is not available on this machine "
        "(torch.cuda.is_available() is False); use device='cpu' or 'auto'.",
        skip_reason=_CUDA_SKIP,
    ),
    Case(
        "Training diverges (the loss stops being finite): unscaled inputs, a huge learning rate",
        "classifier",
        _fit_classifier(
            X=X_SOURCE * 100,
            X_target=X_TARGET * 100,
            batch_size=8,
            learning_rate_init=1e12,
            learning_rate_schedule="constant",
        ),
        FloatingPointError,
        f"Training diverged at epoch 1: the loss became nan. {_ADVICE}",
    ),
    Case(
        "Training diverges in its last step (the weights stop being finite)",
        "classifier",
        _fit_classifier(callbacks=[_NaNOnLastStep()]),
        FloatingPointError,
        "Training diverged in its last steps: the weights of label_head.weight are no longer "
        f"finite. {_ADVICE}",
    ),
    Case(
        "DANN as a feature step before another model in a ``Pipeline``",
        "classifier",
        lambda: make_pipeline(_clf(), LogisticRegression()).fit(X_STACKED, Y_STACKED),
        ValueError,
        "DANNClassifier.fit_transform got a y that marks target rows (y == -1). In a Pipeline "
        "this means DANNClassifier is a feature step before another model, which would learn "
        "the target marker from the same y. Make DANNClassifier the last step, or fit it and "
        "hand its transform(X) features to the next model yourself.",
    ),
    Case(
        "``score`` with every row of ``y`` marked ``-1``",
        "classifier",
        lambda: fitted_classifier().score(X_TARGET, np.full(30, -1)),
        ValueError,
        "score needs labeled rows, but every row of y is -1 (target).",
    ),
]

PARAMETER_CASES = [
    # Options are listed from a set, in no fixed order: only the beginning is checked.
    _bad_parameter("classifier", "adversarial_schedule", "linear", "a str among", True),
    _bad_parameter("classifier", "learning_rate_schedule", "cosine", "a str among", True),
    _bad_parameter("classifier", "solver", "lbfgs", "a str among", True),
    _bad_parameter("classifier", "activation", "gelu", "a str among", True),
    _bad_parameter("classifier", "adversarial_weight", -1.0, "a float in the range [0.0, inf)"),
    _bad_parameter("classifier", "learning_rate_init", 0.0, "a float in the range (0.0, inf)"),
    _bad_parameter("classifier", "momentum", 1.5, "a float in the range [0.0, 1.0]"),
    _bad_parameter("classifier", "alpha", -1.0, "a float in the range [0.0, inf)"),
    _bad_parameter("classifier", "batch_size", 0, "an int in the range [1, inf)"),
    _bad_parameter("classifier", "max_iter", 0, "an int in the range [1, inf)"),
    _bad_parameter("classifier", "n_iter_no_change", 0, "an int in the range [1, inf)"),
    _bad_parameter("classifier", "dropout", 1.0, "a float in the range [0.0, 1.0)"),
    _bad_parameter("classifier", "validation_fraction", 1.0, "a float in the range (0.0, 1.0)"),
    _bad_parameter(
        "classifier",
        "hidden_layer_sizes",
        0,
        "an array-like or an int in the range [1, inf)",
    ),
    _bad_parameter(
        "classifier",
        "class_weight",
        "bogus",
        "None, an instance of 'dict' or a str among {'balanced'}",
    ),
    _bad_parameter(
        "classifier",
        "device",
        3,
        "an instance of 'str' or an instance of 'torch.device'",
    ),
    _bad_parameter("classifier", "callbacks", "x", "None or an instance of 'list'"),
    _bad_parameter("regressor", "loss", "absolute", "a str among", True),
    _bad_parameter("regressor", "huber_delta", 0.0, "a float in the range (0.0, inf)"),
]

REGRESSOR_CASES = [
    Case(
        "``y=None``",
        "regressor",
        _fit_regressor(y=None),
        ValueError,
        "DANNRegressor requires y to be passed, but the target y is None.",
    ),
    Case(
        "Infinity in ``y``",
        "regressor",
        _fit_regressor(y=np.r_[np.inf, Y_REG[1:]]),
        ValueError,
        "y contains infinite values; only NaN is allowed in y, where it marks target rows.",
    ),
    Case(
        "Non-numeric ``y``",
        "regressor",
        _fit_regressor(y=np.array(["a"] * 30)),
        ValueError,
        "DANNRegressor needs numeric targets; y has dtype <U1.",
    ),
    Case(
        "A row of ``y`` with some outputs NaN, others not",
        "regressor",
        _fit_regressor(y=np.c_[np.r_[np.nan, Y_REG[1:]], Y_REG], X_target=None),
        ValueError,
        "y has rows where some outputs are NaN and others are not; NaN marks a target row "
        "only when all of its outputs are NaN.",
    ),
    Case(
        "Every row of ``y`` is NaN (no labeled source row)",
        "regressor",
        _fit_regressor(y=np.full(30, np.nan), X_target=None),
        ValueError,
        "y has no labeled source rows: every row is marked NaN (target). DANNRegressor needs "
        "labeled source rows to learn from.",
    ),
    Case(
        "``y`` marks target rows (NaN) and ``X_target`` is given too",
        "regressor",
        _fit_regressor(y=np.r_[np.nan, Y_REG[1:]]),
        ValueError,
        "y contains the label NaN, which marks target rows, and X_target was given too: with "
        "X_target, y must hold source labels only (labels of target rows go in y_target).",
    ),
    Case(
        "``y`` has no target rows and no ``X_target`` is given (a warning)",
        "regressor",
        _fit_regressor(X_target=None),
        UserWarning,
        "y contains no target rows (y == NaN) and no X_target was given; training "
        "source-only, without the adversarial loss.",
    ),
    Case(
        "3-D ``y``",
        "regressor",
        _fit_regressor(y=np.ones((30, 2, 2))),
        ValueError,
        "y must be 1-D, or 2-D of shape (n_samples, n_outputs); got shape (30, 2, 2).",
    ),
    Case(
        "``score`` with a row of ``y`` partly NaN",
        "regressor",
        lambda: fitted_regressor_2d().score(X_TARGET, np.c_[np.r_[np.nan, Y_REG[1:]], Y_REG]),
        ValueError,
        "y has rows where some outputs are NaN and others are not; NaN marks a target row "
        "only when all of its outputs are NaN.",
    ),
    Case(
        "``score`` with ``sample_weight`` of the wrong length",
        "regressor",
        lambda: fitted_regressor().score(X_SOURCE, Y_REG, sample_weight=np.ones(29)),
        ValueError,
        "sample_weight must hold one weight per row of X: got shape (29,) for 30 rows.",
    ),
    Case(
        "``score`` with every row of ``y`` NaN",
        "regressor",
        lambda: fitted_regressor().score(X_TARGET, np.full(30, np.nan)),
        ValueError,
        "score needs labeled rows, but every row of y is NaN (target).",
    ),
]

STACK_DOMAINS_CASES = [
    Case(
        "2-D ``y_source`` (classification)",
        "stack_domains",
        lambda: stack_domains(X_SOURCE, Y_SOURCE[:, None], X_TARGET),
        ValueError,
        "y_source must be 1-D, got an array of shape (30, 1).",
    ),
    Case(
        "``X_source`` and ``y_source`` of different lengths",
        "stack_domains",
        lambda: stack_domains(X_SOURCE, Y_SOURCE[:-1], X_TARGET),
        ValueError,
        "X_source has 30 rows but y_source has 29 labels.",
    ),
    Case(
        "``X_source`` and ``X_target`` with different feature counts",
        "stack_domains",
        lambda: stack_domains(X_SOURCE, Y_SOURCE, X_TARGET[:, :3]),
        ValueError,
        "X_target has 3 features, but X_source has 4 features; both domains need the same "
        "features.",
    ),
    Case(
        "DataFrames with different columns",
        "stack_domains",
        lambda: stack_domains(_frame(X_SOURCE), Y_SOURCE, _frame(X_TARGET, ["a", "b", "c", "e"])),
        ValueError,
        "X_target's columns differ from X's (only in the source: ['d']; only in the target: "
        "['e']).",
    ),
    Case(
        "``y_source`` holding the target marker ``-1``",
        "stack_domains",
        lambda: stack_domains(X_SOURCE, np.where(Y_SOURCE == 0, -1, 1), X_TARGET),
        ValueError,
        "y_source contains the label -1, which marks target rows; encode the source labels "
        "differently (for example with LabelEncoder).",
    ),
    Case(
        "``uint64`` labels above ``2**63 - 1``",
        "stack_domains",
        lambda: stack_domains(
            X_SOURCE, np.where(Y_SOURCE == 0, 3, 2**63 + 5).astype(np.uint64), X_TARGET
        ),
        ValueError,
        "y_source holds uint64 labels above 2**63 - 1, which cannot be stacked with the -1 "
        "target marker; encode them first (for example with LabelEncoder).",
    ),
    Case(
        "A DataFrame ``X_source`` with an array ``X_target`` (a warning; the names are kept)",
        "stack_domains",
        lambda: stack_domains(_frame(X_SOURCE), Y_SOURCE, X_TARGET),
        UserWarning,
        "X is a DataFrame but X_target is not: X_target's columns are matched to X's by "
        "position, not by name. Pass both as DataFrames to have the names checked.",
    ),
    Case(
        "NaN in ``y_source`` with ``regression=True``",
        "stack_domains",
        lambda: stack_domains(X_SOURCE, np.r_[np.nan, Y_REG[1:]], X_TARGET, regression=True),
        ValueError,
        "y_source contains NaN, which marks target rows for regression; drop or impute those "
        "source rows.",
    ),
]

SCORER_CASES = [
    Case(
        "A label-free scorer on a fold without target rows (e.g. ``search.score`` on "
        "labeled test rows)",
        "scorer",
        lambda: prediction_entropy_scorer(fitted_classifier(), X_TARGET, Y_SOURCE),
        ValueError,
        "A label-free scorer got no target rows (y == -1): it scores a validation fold of "
        "stacked source and target rows. If this is search.score(X_test, y_test) on labeled "
        "test rows, score them with a labeled metric instead, e.g. "
        "search.best_estimator_.score(X_test, y_test); inside a search, use a splitter that "
        "keeps both domains in every fold, e.g. skdann.model_selection.DomainStratifiedKFold.",
    ),
    Case(
        "A label-free scorer on a fold of target rows only",
        "scorer",
        lambda: prediction_entropy_scorer(fitted_classifier(), X_TARGET, np.full(30, -1)),
        ValueError,
        "A label-free scorer got only target rows (y == -1) and no labeled source row. Use a "
        "splitter that keeps both domains in every fold, e.g. "
        "skdann.model_selection.DomainStratifiedKFold.",
    ),
    Case(
        "``prediction_entropy_scorer`` on a regressor",
        "scorer",
        lambda: prediction_entropy_scorer(fitted_regressor(), X_STACKED, Y_STACKED_REG),
        TypeError,
        "prediction_entropy_scorer scores class probabilities, which DANNRegressor does not "
        "give. For a regressor use importance_weighted_scorer, "
        "deep_embedded_validation_scorer or reverse_validation_scorer.",
    ),
    Case(
        "``labeled_scorer`` on a fold of target rows only",
        "scorer",
        lambda: labeled_scorer("accuracy")(fitted_classifier(), X_TARGET, np.full(30, -1)),
        ValueError,
        "labeled_scorer got no labeled rows: every row of y marks a target row.",
    ),
]

SPLITTER_CASES = [
    Case(
        "More folds than target rows",
        "splitter",
        lambda: list(DomainStratifiedKFold(5).split(X_STACKED[:34], Y_STACKED[:34])),
        ValueError,
        "DomainStratifiedKFold(n_splits=5) puts rows of every domain in every validation fold, "
        "but there are only 4 target rows; use n_splits <= 4, or more rows.",
    ),
    Case(
        "A ``sample_domain`` with fewer rows than folds",
        "splitter",
        lambda: list(
            DomainStratifiedKFold(5).split(
                X_STACKED, Y_STACKED, sample_domain=np.repeat([1, 2, -1], [27, 3, 30])
            )
        ),
        ValueError,
        "DomainStratifiedKFold(n_splits=5) puts rows of every domain in every validation fold, "
        "but there are only 3 domain 2; use n_splits <= 3, or more rows.",
    ),
    Case(
        "A class with fewer source rows than folds (a warning)",
        "splitter",
        lambda: list(DomainStratifiedKFold(3).split(X_STACKED, np.r_[5, Y_STACKED[1:]])),
        UserWarning,
        "Some classes have fewer source rows in a domain than n_splits=3 (class 5 of source: "
        "1 rows); their rows cannot be spread over every fold.",
    ),
    Case(
        "``split`` without ``y``",
        "splitter",
        lambda: list(DomainStratifiedKFold(3).split(X_STACKED, None)),
        ValueError,
        "DomainStratifiedKFold needs y, whose markers tell target rows.",
    ),
    Case(
        "``sample_domain`` (or ``groups``) of the wrong length",
        "splitter",
        lambda: list(
            DomainStratifiedKFold(3).split(X_STACKED, Y_STACKED, sample_domain=SAMPLE_DOMAIN[:3])
        ),
        ValueError,
        "sample_domain (or groups) must hold one id per row: got shape (3,) for 60 rows.",
    ),
]

PLOT_CASES = [
    Case(
        "``y`` of the wrong length (``FeatureEmbeddingDisplay``)",
        "plots",
        lambda: FeatureEmbeddingDisplay.from_features(X_STACKED, Y_STACKED[:-1]),
        ValueError,
        "y has 59 rows but X has 60: give one label (or target marker) per row of X.",
        skip_reason=_NO_MATPLOTLIB,
    ),
    Case(
        "A single feature",
        "plots",
        lambda: FeatureEmbeddingDisplay.from_features(X_STACKED[:, :1], Y_STACKED),
        ValueError,
        "FeatureEmbeddingDisplay projects rows to 2-D and needs at least 2 features; the input "
        "features have shape (60, 1). Plot a single feature with a histogram instead.",
        skip_reason=_NO_MATPLOTLIB,
    ),
    Case(
        "A model with a single learned unit",
        "plots",
        lambda: FeatureEmbeddingDisplay.from_estimator(
            _clf(hidden_layer_sizes=(1,)).fit(X_STACKED, Y_STACKED), X_STACKED, Y_STACKED
        ),
        ValueError,
        "FeatureEmbeddingDisplay projects rows to 2-D and needs at least 2 features; the "
        "learned features have shape (60, 1). Plot a single feature with a histogram instead.",
        skip_reason=_NO_MATPLOTLIB,
    ),
    Case(
        "A model that is not a DANN estimator",
        "plots",
        lambda: FeatureEmbeddingDisplay.from_estimator(
            LogisticRegression().fit(X_SOURCE, Y_SOURCE), X_STACKED, Y_STACKED
        ),
        TypeError,
        "FeatureEmbeddingDisplay.from_estimator draws the learned features of a fitted DANN "
        "estimator (or a Pipeline ending in one); LogisticRegression has no transform. For the "
        "input features, use FeatureEmbeddingDisplay.from_features(X, y).",
        skip_reason=_NO_MATPLOTLIB,
    ),
]

ENSEMBLE_CASES = [
    Case(
        "``n_seeds=True`` (a bool is not a number of seeds)",
        "ensemble",
        lambda: SeedEnsemble(_clf(), n_seeds=True).fit(X_SOURCE, Y_SOURCE, X_TARGET),
        ValueError,
        "n_seeds must be a positive integer, got True.",
    ),
    Case(
        "A ``Pipeline`` in the three-argument form",
        "ensemble",
        lambda: SeedEnsemble(make_pipeline(StandardScaler(), _clf()), n_seeds=2).fit(
            X_SOURCE, Y_SOURCE, X_TARGET
        ),
        ValueError,
        "SeedEnsemble over a Pipeline takes the stacked form only (a Pipeline's fit has no "
        "X_target): X, y = skdann.stack_domains(X_source, y_source, X_target), then fit(X, y).",
    ),
]

_P = np.array([[0.9, 0.1], [0.2, 0.8], [0.7, 0.3], [0.4, 0.6]])
_LABELS = np.array([0, 1, 0, 1])
_HINT = "encode them first, e.g. with LabelEncoder (the order of the probabilities' columns)."


def _estimate(source_proba=_P, labels=_LABELS, target_proba=_P, method="em"):
    return lambda: estimate_target_proportions(source_proba, labels, target_proba, method)


LABEL_SHIFT_CASES = [
    Case(
        "NaN in the probabilities (``estimate_target_proportions``)",
        "label_shift",
        _estimate(target_proba=_with(_P, 1, 0, np.nan)),
        ValueError,
        "target_proba contains NaN or infinite values; check the classifier that produced it.",
    ),
    Case(
        "No target rows",
        "label_shift",
        _estimate(target_proba=_P[:0]),
        ValueError,
        "target_proba has no rows: the estimate needs source and target rows.",
    ),
    Case(
        "1-D probabilities",
        "label_shift",
        _estimate(source_proba=_P[:, 1]),
        ValueError,
        "source_proba must be 2-D, one row of class probabilities per row (n_rows, n_classes), "
        "as predict_proba returns; got shape (4,).",
    ),
    Case(
        "String labels",
        "label_shift",
        _estimate(labels=np.array(["no", "yes", "no", "yes"])),
        ValueError,
        f"source_labels must be class indices 0 .. 1, got dtype <U3; {_HINT}",
    ),
    Case(
        "A label out of range",
        "label_shift",
        _estimate(labels=np.array([0, 1, 2, 1])),
        ValueError,
        "source_labels must be class indices 0 .. 1 (one per column of the probabilities); got "
        f"2; {_HINT}",
    ),
    Case(
        "A negative label (the target marker ``-1``)",
        "label_shift",
        _estimate(labels=np.array([0, 1, -1, 1])),
        ValueError,
        "source_labels must be class indices 0 .. 1 (one per column of the probabilities); got "
        f"-1; {_HINT}",
    ),
    Case(
        "Labels and probabilities of different lengths",
        "label_shift",
        _estimate(labels=_LABELS[:3]),
        ValueError,
        "source_labels has 3 rows and source_proba 4.",
    ),
    Case(
        "``total_variation`` of distributions of different lengths",
        "label_shift",
        lambda: total_variation([0.5, 0.5], [0.2, 0.3, 0.5]),
        ValueError,
        "total_variation compares two distributions over the same classes (1-D, same length); "
        "got shapes (2,) and (3,).",
    ),
]

CASES = sorted(
    CLASSIFIER_CASES
    + PARAMETER_CASES
    + REGRESSOR_CASES
    + STACK_DOMAINS_CASES
    + SCORER_CASES
    + SPLITTER_CASES
    + PLOT_CASES
    + ENSEMBLE_CASES
    + LABEL_SHIFT_CASES,
    key=lambda case: list(CATEGORIES).index(case.estimator),
)
"""All cases, grouped by ``Case.estimator`` in the order of ``CATEGORIES``."""
