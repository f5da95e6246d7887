"""2-D view (PCA or t-SNE) of the rows of both domains, coloured by domain."""

import numpy as np
import scipy.sparse as sp
from sklearn.decomposition import PCA
from sklearn.manifold import TSNE

from ._common import _check_domains, _pyplot, _split_labels

__all__ = ["FeatureEmbeddingDisplay"]

_PROJECTIONS = {"pca": "PCA", "tsne": "t-SNE"}
# Filled markers only: a scatter cannot mix filled and line-art markers.
_CLASS_MARKERS = ("o", "s", "^", "D", "v", "P", "*", "<", ">", "p")
_UNLABELED_MARKER = "X"


class FeatureEmbeddingDisplay:
    """2-D view of the rows of both domains, coloured by domain.

    Colour tells the domains apart, marker the classes of the labeled
    (source) rows; unlabeled (target) rows, whose labels are unknown, get
    their own marker. With continuous labels (regression) every row gets
    the same marker. Markers are larger when there are fewer rows, and the
    legend sits to the right of the axes, off the rows. Features that a
    DANN has made domain-invariant show the domains mixed, as in the t-SNE
    figures of Ganin et al. (2016).

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
        if not hasattr(estimator, "transform") or not hasattr(estimator, "fit"):
            raise TypeError(
                f"FeatureEmbeddingDisplay.from_estimator draws the learned features of a "
                f"fitted DANN estimator (or a Pipeline ending in one); {type(estimator).__name__} "
                "has no transform. For the input features, use "
                "FeatureEmbeddingDisplay.from_features(X, y)."
            )
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
        n_rows = X.shape[0] if hasattr(X, "shape") else len(X)
        if len(is_target) != n_rows:
            raise ValueError(
                f"y has {len(is_target)} rows but X has {n_rows}: give one label (or target "
                "marker) per row of X."
            )
        domains = None if sample_domain is None else _check_domains(sample_domain, len(y))
        features = X if transform is None else transform(X)
        features = features.toarray() if sp.issparse(features) else features
        features = np.asarray(features, dtype=float)
        if features.ndim != 2 or features.shape[1] < 2:
            shape = features.shape
            source = "learned features" if transform is not None else "input features"
            raise ValueError(
                f"FeatureEmbeddingDisplay projects rows to 2-D and needs at least 2 features; "
                f"the {source} have shape {shape}. Plot a single feature with a histogram "
                "instead."
            )
        embedding = _project(features, method, random_state)
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
        size = _marker_size(len(embedding))
        for i, (domain, name) in enumerate(names.items()):
            rows = domain_of_row == domain
            color = f"C{i}"
            scatter = ax.scatter(*embedding[rows].T, s=size, color=color, alpha=0.7, label=name)
            scatter.set_paths([paths[marker] for marker in markers[rows]])
            scatters[domain] = scatter
            domain_handles.append(Patch(color=color, alpha=0.7, label=name))
        # Beside the axes, not over the rows.
        ax.legend(
            handles=domain_handles + marker_handles,
            loc="upper left",
            bbox_to_anchor=(1.01, 1.0),
            borderaxespad=0.0,
            fontsize="small",
        )
        if self.title is not None:
            ax.set_title(self.title)

        self.scatters_ = scatters
        self.ax_ = ax
        self.figure_ = ax.figure
        return self


def _marker_size(n_rows):
    """Marker area in points², larger for fewer rows: 40 up to 300 rows, 12 from 1,000 rows."""
    return float(np.clip(12_000 / max(n_rows, 1), 12.0, 40.0))


def _project(features, method, random_state):
    """Project the rows to 2-D with PCA or t-SNE."""
    if method == "pca":
        projection = PCA(n_components=2, random_state=random_state)
    else:
        perplexity = min(30.0, len(features) - 1)
        projection = TSNE(n_components=2, perplexity=perplexity, random_state=random_state)
    return projection.fit_transform(features)
