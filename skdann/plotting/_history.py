"""Training curves of a DANN fit, one panel per quantity, one point per epoch."""

import numpy as np
from sklearn.pipeline import Pipeline
from sklearn.utils.validation import check_is_fitted

from ._common import _pyplot

__all__ = ["TrainingHistoryDisplay"]

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
