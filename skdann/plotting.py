"""Plots of a DANN fit: training curves and a 2-D view of the features.

Both classes follow scikit-learn's Display convention: a ``from_*``
classmethod computes what to draw and calls :meth:`plot`, which draws on
new or given axes and keeps the axes, the figure and the artists in
attributes ending in ``_``. They need matplotlib
(``pip install matplotlib``, or ``pip install 'skdann[plot]'``), imported
only when something is drawn.
"""

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE
from sklearn.pipeline import Pipeline
from sklearn.utils.multiclass import type_of_target
from sklearn.utils.validation import check_is_fitted

from ._domains import target_mask

__all__ = ["FeatureEmbeddingDisplay", "TrainingHistoryDisplay"]

# History keys drawn by TrainingHistoryDisplay, panel by panel.
_HISTORY_PANELS = (
    ("Loss", ("train_label_loss", "train_domain_loss", "valid_loss")),
    ("Domain classifier accuracy", ("train_domain_accuracy",)),
    ("λ (adversarial weight)", ("adversarial_weight",)),
    ("Learning rate", ("learning_rate",)),
)
_HISTORY_LABELS = {
    "train_label_loss": "label loss (source)",
    "train_domain_loss": "domain loss",
    "valid_loss": "validation loss (held-out source)",
    "train_domain_accuracy": "domain accuracy",
    "adversarial_weight": "λ",
    "learning_rate": "learning rate",
}
_CHANCE = 0.5

_PROJECTIONS = {"pca": "PCA", "tsne": "t-SNE"}
# Filled markers only: a scatter cannot mix filled and line-art markers.
_CLASS_MARKERS = ("o", "s", "^", "D", "v", "P", "*", "<", ">", "p")
_UNLABELED_MARKER = "X"


def _pyplot(caller):
    """Import ``matplotlib.pyplot``, or say how to install it."""
    try:
        import matplotlib.pyplot as plt
    except ImportError as exc:
        raise ImportError(
            f"{caller} needs matplotlib: pip install matplotlib (or pip install 'skdann[plot]')."
        ) from exc
    return plt


class TrainingHistoryDisplay:
    """Training curves of a DANN fit, one point per epoch.

    Four panels: the label and domain losses (and the validation loss with
    early stopping); the accuracy of the domain classifier, with a dashed
    line at chance (0.5), where a successful adaptation keeps it; the
    adversarial weight λ; the learning rate. History keys that are missing,
    or NaN in every epoch (the domain loss of a source-only fit), are left
    out.

    Use :meth:`from_estimator` to build one from a fitted estimator.

    Parameters
    ----------
    history : skorch.History or list of dict
        One dict per epoch, such as ``DANNClassifier.history_``. The keys
        drawn are ``train_label_loss``, ``train_domain_loss``,
        ``valid_loss``, ``train_domain_accuracy``, ``adversarial_weight``
        and ``learning_rate``, against ``epoch`` (1, 2, ... when absent).

    Attributes
    ----------
    lines_ : dict of str to matplotlib Line2D
        The curve of each history key drawn.
    chance_line_ : matplotlib Line2D
        The dashed line at 0.5 on the domain accuracy panel.
    ax_ : ndarray of matplotlib Axes
        The four panels: losses, domain accuracy, λ, learning rate.
    figure_ : matplotlib Figure
        The figure of the panels.

    See Also
    --------
    FeatureEmbeddingDisplay : 2-D view of the learned features.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann import DANNClassifier
    >>> from skdann.plotting import TrainingHistoryDisplay
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(100, 2))
    >>> y_source = (X_source[:, 0] > 0).astype(int)
    >>> X_target = rng.normal(size=(100, 2)) + [0.5, 0.5]
    >>> clf = DANNClassifier(max_iter=5, random_state=0).fit(X_source, y_source, X_target)
    >>> display = TrainingHistoryDisplay.from_estimator(clf)
    >>> display.lines_["train_label_loss"].get_ydata().shape
    (5,)
    """

    def __init__(self, history):
        self.history = history

    @classmethod
    def from_estimator(cls, estimator, *, ax=None):
        """Plot the training history of a fitted estimator.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted skdann estimator such as :class:`~skdann.DANNClassifier`
            (any fitted estimator with a ``history_`` attribute), or a
            pipeline ending in one.
        ax : array-like of 4 matplotlib Axes, default=None
            Where to draw the four panels; a new 2 x 2 figure when None.

        Returns
        -------
        display : TrainingHistoryDisplay
            The display, with the curves drawn.

        Examples
        --------
        >>> import numpy as np
        >>> from skdann import DANNClassifier
        >>> from skdann.plotting import TrainingHistoryDisplay
        >>> rng = np.random.RandomState(0)
        >>> X_source, X_target = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 1
        >>> y_source = (X_source[:, 0] > 0).astype(int)
        >>> clf = DANNClassifier(max_iter=3, random_state=0).fit(X_source, y_source, X_target)
        >>> display = TrainingHistoryDisplay.from_estimator(clf)
        >>> sorted(display.lines_)[:2]
        ['adversarial_weight', 'learning_rate']
        """
        final = estimator[-1] if isinstance(estimator, Pipeline) else estimator
        check_is_fitted(final)
        if not hasattr(final, "history_"):
            raise TypeError(
                f"{type(final).__name__} has no history_ attribute; TrainingHistoryDisplay "
                "needs a fitted skdann estimator (or a pipeline ending in one)."
            )
        return cls(final.history_).plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the curves.

        Parameters
        ----------
        ax : array-like of 4 matplotlib Axes, default=None
            Where to draw the losses, the domain accuracy, λ and the learning
            rate, in this order; a new 2 x 2 figure when None.

        Returns
        -------
        display : TrainingHistoryDisplay
            This display, with ``lines_``, ``chance_line_``, ``ax_`` and
            ``figure_`` set.

        Examples
        --------
        >>> from skdann.plotting import TrainingHistoryDisplay
        >>> history = [{"epoch": 1, "train_label_loss": 0.7}, {"epoch": 2}]
        >>> display = TrainingHistoryDisplay(history).plot()
        >>> display.lines_["train_label_loss"].get_ydata().tolist()
        [0.7, nan]
        """
        plt = _pyplot("TrainingHistoryDisplay")
        if ax is None:
            _, ax = plt.subplots(2, 2, figsize=(10, 7), sharex=True, layout="constrained")
        ax = np.asarray(ax, dtype=object)
        if ax.size != len(_HISTORY_PANELS):
            raise ValueError(
                f"ax must hold {len(_HISTORY_PANELS)} Axes (losses, domain accuracy, "
                f"λ, learning rate), got {ax.size}."
            )
        epochs = _history_column(self.history, "epoch")
        if np.isnan(epochs).any():
            epochs = np.arange(1, len(epochs) + 1, dtype=float)

        lines = {}
        for panel, (title, keys) in zip(ax.flat, _HISTORY_PANELS, strict=True):
            for key in keys:
                values = _history_column(self.history, key)
                if np.isnan(values).all():
                    continue
                (lines[key],) = panel.plot(epochs, values, marker=".", label=_HISTORY_LABELS[key])
            panel.set_title(title)
            panel.set_xlabel("epoch")
        accuracy_panel = ax.flat[1]
        self.chance_line_ = accuracy_panel.axhline(
            _CHANCE, color="gray", linestyle="--", label="chance"
        )
        accuracy_panel.set_ylim(0, 1.05)
        for panel in ax.flat[:2]:
            if panel.get_legend_handles_labels()[0]:
                panel.legend()

        self.lines_ = lines
        self.ax_ = ax
        self.figure_ = ax.flat[0].figure
        return self


def _history_column(history, key):
    """Values of ``key`` per epoch as floats, NaN where an epoch lacks it."""
    values = (row.get(key) for row in history)
    return np.array([np.nan if value is None else value for value in values], dtype=float)


class FeatureEmbeddingDisplay:
    """2-D view of the rows of both domains, coloured by domain.

    Colour tells the domains apart, marker the classes of the labeled
    (source) rows; unlabeled (target) rows, whose labels are unknown, get
    their own marker. With continuous labels (regression) every row gets
    the same marker. Features that a DANN has made domain-invariant show
    the domains mixed, as in the t-SNE figures of Ganin et al. (2016).

    Use :meth:`from_estimator` to view the features an estimator learned,
    and :meth:`from_features` to view the inputs.

    Parameters
    ----------
    embedding : array-like of shape (n_samples, 2)
        Coordinates of the rows.
    is_target : array-like of bool of shape (n_samples,)
        True on the unlabeled (target) rows.
    labels : array-like of shape (n_samples,), default=None
        Class labels, one marker per class among the labeled rows (cycling
        after 10 classes); the values on target rows are ignored. None
        draws every row with the same marker.
    domains : array-like of int of shape (n_samples,), default=None
        Domain id of each row, one colour per id: positive ids are source
        domains, negative ids target domains. None gives two colours,
        source and target, from ``is_target``.
    title : str, default=None
        Title of the axes.

    Attributes
    ----------
    scatters_ : dict of matplotlib PathCollection
        One scatter per domain, keyed by ``"source"`` and ``"target"``, or
        by domain id when ``domains`` is given.
    ax_ : matplotlib Axes
        The axes drawn on.
    figure_ : matplotlib Figure
        The figure of the axes.

    See Also
    --------
    TrainingHistoryDisplay : Training curves of a DANN fit.

    References
    ----------
    Y. Ganin, E. Ustinova, H. Ajakan, P. Germain, H. Larochelle,
    F. Laviolette, M. Marchand and V. Lempitsky. Domain-Adversarial Training
    of Neural Networks. JMLR 17(59), 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann import DANNClassifier, stack_domains
    >>> from skdann.plotting import FeatureEmbeddingDisplay
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(100, 2))
    >>> y_source = (X_source[:, 0] > 0).astype(int)
    >>> X_target = rng.normal(size=(100, 2)) + [0.5, 0.5]
    >>> X, y = stack_domains(X_source, y_source, X_target)
    >>> clf = DANNClassifier(max_iter=5, random_state=0).fit(X, y)
    >>> display = FeatureEmbeddingDisplay.from_estimator(clf, X, y)
    >>> display.scatters_["target"].get_offsets().shape
    (100, 2)
    """

    def __init__(self, embedding, is_target, *, labels=None, domains=None, title=None):
        self.embedding = embedding
        self.is_target = is_target
        self.labels = labels
        self.domains = domains
        self.title = title

    @classmethod
    def from_estimator(
        cls, estimator, X, y, *, method="pca", sample_domain=None, random_state=0, ax=None
    ):
        """Plot a 2-D projection of the features an estimator learned.

        Parameters
        ----------
        estimator : estimator or Pipeline
            A fitted skdann estimator such as :class:`~skdann.DANNClassifier`,
            or a pipeline ending in one; ``estimator.transform(X)`` gives the
            features.
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows of both domains.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Labels, ``-1`` on target rows (see :func:`~skdann.target_mask`),
            or regression targets, NaN on target rows (in every output).
        method : {"pca", "tsne"}, default="pca"
            Projection to 2-D: :class:`~sklearn.decomposition.PCA` or
            :class:`~sklearn.manifold.TSNE`.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Domain id of each row (positive: source, negative: target), for
            one colour per domain.
        random_state : int, RandomState instance or None, default=0
            Seed of the projection.
        ax : matplotlib Axes, default=None
            Where to draw; new axes when None.

        Returns
        -------
        display : FeatureEmbeddingDisplay
            The display, with the rows drawn.

        Examples
        --------
        >>> import numpy as np
        >>> from sklearn.pipeline import make_pipeline
        >>> from sklearn.preprocessing import StandardScaler
        >>> from skdann import DANNClassifier, stack_domains
        >>> from skdann.plotting import FeatureEmbeddingDisplay
        >>> rng = np.random.RandomState(0)
        >>> X_source, X_target = rng.normal(size=(50, 2)), rng.normal(size=(50, 2)) + 1
        >>> X, y = stack_domains(X_source, (X_source[:, 0] > 0).astype(int), X_target)
        >>> pipe = make_pipeline(StandardScaler(), DANNClassifier(max_iter=3, random_state=0))
        >>> display = FeatureEmbeddingDisplay.from_estimator(pipe.fit(X, y), X, y)
        >>> display.ax_.get_title()
        'Learned features (PCA)'
        """
        return cls._from_rows(
            estimator.transform,
            X,
            y,
            method=method,
            sample_domain=sample_domain,
            random_state=random_state,
            ax=ax,
            what="Learned features",
        )

    @classmethod
    def from_features(cls, X, y, *, method="pca", sample_domain=None, random_state=0, ax=None):
        """Plot a 2-D projection of the input features.

        Next to :meth:`from_estimator`, shows what adaptation changed.

        Parameters
        ----------
        X : {array-like, sparse matrix, DataFrame} of shape (n_samples, n_features)
            Rows of both domains; sparse matrices are densified.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Labels, ``-1`` on target rows (see :func:`~skdann.target_mask`),
            or regression targets, NaN on target rows (in every output).
        method : {"pca", "tsne"}, default="pca"
            Projection to 2-D: :class:`~sklearn.decomposition.PCA` or
            :class:`~sklearn.manifold.TSNE`.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Domain id of each row (positive: source, negative: target), for
            one colour per domain.
        random_state : int, RandomState instance or None, default=0
            Seed of the projection.
        ax : matplotlib Axes, default=None
            Where to draw; new axes when None.

        Returns
        -------
        display : FeatureEmbeddingDisplay
            The display, with the rows drawn.

        Examples
        --------
        >>> import numpy as np
        >>> from skdann import stack_domains
        >>> from skdann.plotting import FeatureEmbeddingDisplay
        >>> rng = np.random.RandomState(0)
        >>> X_source, X_target = rng.normal(size=(50, 3)), rng.normal(size=(50, 3)) + 1
        >>> X, y = stack_domains(X_source, (X_source[:, 0] > 0).astype(int), X_target)
        >>> display = FeatureEmbeddingDisplay.from_features(X, y)
        >>> display.scatters_["source"].get_offsets().shape
        (50, 2)
        """
        return cls._from_rows(
            None,
            X,
            y,
            method=method,
            sample_domain=sample_domain,
            random_state=random_state,
            ax=ax,
            what="Input features",
        )

    @classmethod
    def _from_rows(cls, transform, X, y, *, method, sample_domain, random_state, ax, what):
        if method not in _PROJECTIONS:
            raise ValueError(f"method must be one of {sorted(_PROJECTIONS)}, got {method!r}.")
        is_target, labels = _split_labels(y)
        domains = None if sample_domain is None else _check_domains(sample_domain, len(y))
        features = X if transform is None else transform(X)
        features = features.toarray() if sp.issparse(features) else features
        embedding = _project(np.asarray(features, dtype=float), method, random_state)
        title = f"{what} ({_PROJECTIONS[method]})"
        display = cls(embedding, is_target, labels=labels, domains=domains, title=title)
        return display.plot(ax=ax)

    def plot(self, *, ax=None):
        """Draw the rows.

        Parameters
        ----------
        ax : matplotlib Axes, default=None
            Where to draw; new axes when None.

        Returns
        -------
        display : FeatureEmbeddingDisplay
            This display, with ``scatters_``, ``ax_`` and ``figure_`` set.

        Examples
        --------
        >>> import numpy as np
        >>> from skdann.plotting import FeatureEmbeddingDisplay
        >>> embedding = np.array([[0.0, 0.0], [1.0, 0.0], [0.0, 1.0]])
        >>> display = FeatureEmbeddingDisplay(embedding, [False, False, True], labels=[0, 1, -1])
        >>> display.plot().scatters_["target"].get_offsets().tolist()
        [[0.0, 1.0]]
        """
        plt = _pyplot("FeatureEmbeddingDisplay")
        from matplotlib.lines import Line2D
        from matplotlib.markers import MarkerStyle
        from matplotlib.patches import Patch

        if ax is None:
            _, ax = plt.subplots(layout="constrained")
        embedding = np.asarray(self.embedding, dtype=float)
        is_target = np.asarray(self.is_target, dtype=bool)
        if self.domains is None:
            domain_of_row = np.where(is_target, "target", "source")
            names = {key: key for key in ("source", "target") if key in domain_of_row}
        else:
            domain_of_row = np.asarray(self.domains)
            ids = sorted(set(domain_of_row.tolist()), key=lambda d: (d < 0, abs(d)))
            names = {d: f"domain {d} ({'target' if d < 0 else 'source'})" for d in ids}

        def marker_handle(marker, label):
            return Line2D([], [], marker=marker, linestyle="", color="0.4", label=label)

        markers = np.full(len(embedding), "o", dtype=object)
        marker_handles = []
        if self.labels is not None:
            labels = np.asarray(self.labels)
            classes = np.unique(labels[~is_target])
            for i, label in enumerate(classes):
                marker = _CLASS_MARKERS[i % len(_CLASS_MARKERS)]
                markers[~is_target & (labels == label)] = marker
                marker_handles.append(marker_handle(marker, f"class {label}"))
            markers[is_target] = _UNLABELED_MARKER
            if is_target.any():
                marker_handles.append(marker_handle(_UNLABELED_MARKER, "unlabeled"))

        # A scatter takes one marker, but draws point i with path i: one path per row.
        styles = {marker: MarkerStyle(marker) for marker in set(markers)}
        paths = {
            m: style.get_path().transformed(style.get_transform()) for m, style in styles.items()
        }
        scatters = {}
        domain_handles = []
        for i, (domain, name) in enumerate(names.items()):
            rows = domain_of_row == domain
            color = f"C{i}"
            scatter = ax.scatter(*embedding[rows].T, s=20, color=color, alpha=0.7, label=name)
            scatter.set_paths([paths[marker] for marker in markers[rows]])
            scatters[domain] = scatter
            domain_handles.append(Patch(color=color, alpha=0.7, label=name))
        ax.legend(handles=domain_handles + marker_handles)
        if self.title is not None:
            ax.set_title(self.title)

        self.scatters_ = scatters
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _split_labels(y):
    """Return the target mask of ``y`` and its class labels (None when continuous)."""
    y = np.asarray(y)
    if y.ndim not in (1, 2):
        raise ValueError(f"y must be 1-D or 2-D, got an array of shape {y.shape}.")
    if y.ndim == 2 or (y.dtype.kind == "f" and np.isnan(y).any()):
        # Regression targets: NaN (in every output) marks a target row.
        missing = np.isnan(y.astype(float))
        return (missing.all(axis=1) if y.ndim == 2 else missing), None
    is_target = target_mask(y)
    labeled = y[~is_target]
    if len(labeled) and type_of_target(labeled) in ("binary", "multiclass"):
        return is_target, y
    return is_target, None


def _check_domains(sample_domain, n_samples):
    domains = np.asarray(sample_domain)
    if domains.shape != (n_samples,) or domains.dtype.kind not in "iu":
        raise ValueError(
            f"sample_domain must be an int array of shape ({n_samples},), got "
            f"{domains.dtype} of shape {domains.shape}."
        )
    if (domains == 0).any():
        raise ValueError(
            "sample_domain ids must be non-zero: positive for source, negative for target."
        )
    return domains


def _project(features, method, random_state):
    """Project the rows to 2-D with PCA or t-SNE."""
    if method == "pca":
        projection = PCA(n_components=2, random_state=random_state)
    else:
        perplexity = min(30.0, len(features) - 1)
        projection = TSNE(n_components=2, perplexity=perplexity, random_state=random_state)
    return projection.fit_transform(features)
