"""Plots of a DANN fit: training curves and a 2-D view of the features.

Both classes follow scikit-learn's Display convention: a ``from_*``
classmethod computes what to draw and calls ``plot``, which draws on
new or given axes and keeps the axes, the figure and the artists in
attributes ending in ``_``. They need matplotlib
(``pip install matplotlib``, or ``pip install 'skdann[plot]'``), imported
only when something is drawn.
"""

from ._embedding import FeatureEmbeddingDisplay
from ._history import TrainingHistoryDisplay

__all__ = ["FeatureEmbeddingDisplay", "TrainingHistoryDisplay"]
