"""The displays draw the history columns and the projected rows they are given."""

import sys

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.exceptions import NotFittedError
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, stack_domains
from skdann.plotting import FeatureEmbeddingDisplay, TrainingHistoryDisplay

matplotlib = pytest.importorskip("matplotlib")
matplotlib.use("Agg")
plt = pytest.importorskip("matplotlib.pyplot")

PARAMS = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 16, "random_state": 0}
N = 60  # rows per domain
CURVES = [
    "train_label_loss",
    "train_domain_loss",
    "train_domain_accuracy",
    "adversarial_weight",
    "learning_rate",
]


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@pytest.fixture(scope="module")
def blobs():
    """Two Gaussian classes per domain; the target is the source shifted by 1."""
    rng = np.random.RandomState(0)
    y_source = np.repeat([0, 1], N // 2)
    X_source = rng.normal(size=(N, 4)) + 2.0 * y_source[:, None]
    X_target = rng.normal(size=(N, 4)) + 2.0 * y_source[:, None] + 1.0
    return X_source, y_source, X_target


@pytest.fixture(scope="module")
def fitted(blobs):
    return DANNClassifier(**PARAMS).fit(*blobs)


@pytest.fixture(scope="module")
def stacked(blobs):
    return stack_domains(*blobs)


def _markers(scatter, candidates="osX^"):
    """The marker of each point of a scatter, read back from its paths."""
    styles = {m: matplotlib.markers.MarkerStyle(m) for m in candidates}
    paths = {m: s.get_path().transformed(s.get_transform()).vertices for m, s in styles.items()}
    return [
        next(m for m, v in paths.items() if np.array_equal(path.vertices, v))
        for path in scatter.get_paths()
    ]


def _legend_texts(ax):
    return [text.get_text() for text in ax.get_legend().get_texts()]


def test_history_lines_are_the_history_columns(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    history = fitted.history_
    assert set(display.lines_) == set(CURVES)  # no valid_loss without early stopping
    for key in CURVES:
        np.testing.assert_allclose(display.lines_[key].get_ydata(), history[:, key])
        np.testing.assert_array_equal(display.lines_[key].get_xdata(), [1, 2, 3])
    assert display.ax_.shape == (2, 2)
    assert display.figure_ is display.ax_[0, 0].figure
    losses, accuracy, weight, rate = display.ax_.flat
    assert display.lines_["train_domain_loss"].axes is losses
    assert display.lines_["train_domain_accuracy"].axes is accuracy
    assert display.lines_["adversarial_weight"].axes is weight
    assert display.lines_["learning_rate"].axes is rate
    assert display.chance_line_.axes is accuracy
    np.testing.assert_array_equal(display.chance_line_.get_ydata(), [0.5, 0.5])
    assert display.chance_line_.get_linestyle() == "--"


def test_history_of_a_pipeline_with_early_stopping_draws_the_validation_loss(stacked):
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**PARAMS, early_stopping=True))
    pipe.fit(*stacked)
    display = TrainingHistoryDisplay.from_estimator(pipe)
    history = pipe[-1].history_
    np.testing.assert_allclose(display.lines_["valid_loss"].get_ydata(), history[:, "valid_loss"])
    assert display.lines_["valid_loss"].axes is display.ax_[0, 0]
    assert "validation loss (held-out source)" in _legend_texts(display.ax_[0, 0])


def test_history_skips_all_nan_and_missing_keys(blobs):
    X_source, y_source, _ = blobs
    with pytest.warns(UserWarning, match="source-only"):
        source_only = DANNClassifier(**PARAMS).fit(X_source, y_source)
    display = TrainingHistoryDisplay.from_estimator(source_only)
    assert "train_domain_loss" not in display.lines_  # NaN in every epoch
    assert "train_domain_accuracy" not in display.lines_
    np.testing.assert_allclose(
        display.lines_["train_label_loss"].get_ydata(), source_only.history_[:, "train_label_loss"]
    )

    # A key missing in some epochs leaves a gap; without "epoch", x is 1, 2, ...
    display = TrainingHistoryDisplay([{"train_label_loss": 0.7}, {"learning_rate": 0.01}]).plot()
    assert set(display.lines_) == {"train_label_loss", "learning_rate"}
    np.testing.assert_array_equal(display.lines_["train_label_loss"].get_ydata(), [0.7, np.nan])
    np.testing.assert_array_equal(display.lines_["learning_rate"].get_xdata(), [1, 2])


def test_history_plot_redraws_on_new_or_given_axes(fitted):
    display = TrainingHistoryDisplay.from_estimator(fitted)
    first_figure, first_line = display.figure_, display.lines_["train_label_loss"]
    display.plot()
    assert display.figure_ is not first_figure
    assert display.lines_["train_label_loss"] is not first_line
    assert display.lines_["train_label_loss"].axes is display.ax_.flat[0]

    _, row = plt.subplots(1, 4)
    display = TrainingHistoryDisplay.from_estimator(fitted, ax=row)
    assert list(display.ax_) == list(row)
    assert display.lines_["learning_rate"].axes is row[3]
    np.testing.assert_allclose(
        display.lines_["learning_rate"].get_ydata(), fitted.history_[:, "learning_rate"]
    )
    with pytest.raises(ValueError, match="ax must hold 4 Axes"):
        display.plot(ax=row[:3])


def test_history_needs_a_fitted_estimator_with_a_history(blobs):
    X_source, y_source, _ = blobs
    with pytest.raises(NotFittedError):
        TrainingHistoryDisplay.from_estimator(DANNClassifier())
    with pytest.raises(TypeError, match="has no history_ attribute"):
        TrainingHistoryDisplay.from_estimator(LogisticRegression().fit(X_source, y_source))


def test_embedding_is_the_pca_of_the_learned_features_split_by_domain(fitted, stacked):
    X, y = stacked
    display = FeatureEmbeddingDisplay.from_estimator(fitted, X, y)
    features = fitted.transform(X).astype(float)  # float32 features, projected in float64
    expected = PCA(n_components=2, random_state=0).fit_transform(features)
    np.testing.assert_allclose(display.embedding, expected)
    source, target = display.scatters_["source"], display.scatters_["target"]
    np.testing.assert_array_equal(source.get_offsets(), display.embedding[:N])
    np.testing.assert_array_equal(target.get_offsets(), display.embedding[N:])
    assert list(display.scatters_) == ["source", "target"]
    assert display.ax_ is source.axes
    assert display.figure_ is display.ax_.figure
    assert display.ax_.get_title() == "Learned features (PCA)"
    # Marker = class on the labeled rows; one marker for the unlabeled ones.
    assert _markers(source) == ["o"] * (N // 2) + ["s"] * (N // 2)
    assert _markers(target) == ["X"] * N
    assert _legend_texts(display.ax_) == ["source", "target", "class 0", "class 1", "unlabeled"]
    assert not np.allclose(source.get_facecolor()[0], target.get_facecolor()[0])


def test_embedding_of_a_pipeline_uses_the_pipeline_transform(stacked):
    X, y = stacked
    pipe = make_pipeline(StandardScaler(), DANNClassifier(**PARAMS)).fit(X, y)
    display = FeatureEmbeddingDisplay.from_estimator(pipe, X, y)
    features = pipe.transform(X).astype(float)
    expected = PCA(n_components=2, random_state=0).fit_transform(features)
    np.testing.assert_allclose(display.embedding, expected)


@pytest.mark.parametrize("container", [np.asarray, pd.DataFrame, sp.csr_matrix])
def test_embedding_from_features_projects_the_raw_inputs(stacked, container):
    X, y = stacked
    display = FeatureEmbeddingDisplay.from_features(container(X), y)
    expected = PCA(n_components=2, random_state=0).fit_transform(X)
    np.testing.assert_allclose(display.embedding, expected)
    np.testing.assert_array_equal(display.scatters_["target"].get_offsets(), display.embedding[N:])
    assert display.ax_.get_title() == "Input features (PCA)"


@pytest.mark.parametrize("n_outputs", [None, 2])
def test_nan_marks_target_rows_of_a_float_y_without_class_markers(stacked, n_outputs):
    X, _ = stacked
    y = np.r_[np.random.RandomState(0).normal(size=N), np.full(N, np.nan)]
    if n_outputs:  # several regression outputs: a row of NaN marks a target row
        y = np.column_stack([y] * n_outputs)
    display = FeatureEmbeddingDisplay.from_features(X, y)
    assert len(display.scatters_["source"].get_offsets()) == N
    np.testing.assert_array_equal(display.scatters_["target"].get_offsets(), display.embedding[N:])
    assert _markers(display.scatters_["source"]) == ["o"] * N
    assert _markers(display.scatters_["target"]) == ["o"] * N
    assert _legend_texts(display.ax_) == ["source", "target"]


def test_string_labels_and_markers_cycling_after_ten_classes(blobs):
    X_source, _, X_target = blobs
    y_source = np.array([f"c{i:02d}" for i in range(12)] * 5)
    X, y = stack_domains(X_source, y_source, X_target)  # "-1" on target rows
    display = FeatureEmbeddingDisplay.from_features(X, y)
    assert len(display.scatters_["target"].get_offsets()) == N
    markers = _markers(display.scatters_["source"], candidates="osX^Dv*P<>p")
    assert markers[:12] == ["o", "s", "^", "D", "v", "P", "*", "<", ">", "p", "o", "s"]
    assert "class c11" in _legend_texts(display.ax_)


def test_sample_domain_gives_one_scatter_per_domain(stacked):
    X, y = stacked
    sample_domain = np.r_[np.full(N // 2, 1), np.full(N // 2, 2), np.full(N, -1)]
    display = FeatureEmbeddingDisplay.from_features(X, y, sample_domain=sample_domain)
    assert list(display.scatters_) == [1, 2, -1]
    for domain, scatter in display.scatters_.items():
        rows = sample_domain == domain
        np.testing.assert_array_equal(scatter.get_offsets(), display.embedding[rows])
    colors = {tuple(s.get_facecolor()[0]) for s in display.scatters_.values()}
    assert len(colors) == 3
    assert _legend_texts(display.ax_)[:3] == [
        "domain 1 (source)",
        "domain 2 (source)",
        "domain -1 (target)",
    ]
    with pytest.raises(ValueError, match="must be non-zero"):
        FeatureEmbeddingDisplay.from_features(X, y, sample_domain=np.zeros(len(y), dtype=int))
    with pytest.raises(ValueError, match="int array of shape"):
        FeatureEmbeddingDisplay.from_features(X, y, sample_domain=sample_domain[:-1])


def test_tsne_embedding_and_drawing_on_given_axes(stacked):
    X, y = stacked
    X, y = X[::3], y[::3]  # 20 rows per domain, for speed
    _, ax = plt.subplots()
    display = FeatureEmbeddingDisplay.from_features(X, y, method="tsne", ax=ax)
    assert display.ax_ is ax
    assert display.embedding.shape == (40, 2)
    assert np.isfinite(display.embedding).all()
    np.testing.assert_array_equal(
        display.scatters_["source"].get_offsets(), display.embedding[:20]
    )
    assert ax.get_title() == "Input features (t-SNE)"


def test_unknown_method_is_rejected(fitted, stacked):
    with pytest.raises(ValueError, match=r"method must be one of \['pca', 'tsne'\], got 'umap'"):
        FeatureEmbeddingDisplay.from_estimator(fitted, *stacked, method="umap")


def test_plot_without_matplotlib_says_how_to_install_it(monkeypatch, fitted):
    monkeypatch.setitem(sys.modules, "matplotlib.pyplot", None)
    with pytest.raises(ImportError, match=r"pip install matplotlib.*skdann\[plot\]"):
        TrainingHistoryDisplay.from_estimator(fitted)
    with pytest.raises(ImportError, match="FeatureEmbeddingDisplay needs matplotlib"):
        FeatureEmbeddingDisplay(np.zeros((2, 2)), [False, True]).plot()
