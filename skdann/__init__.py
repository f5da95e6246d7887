"""skdann: domain-adversarial neural networks (DANN) for scikit-learn."""

from ._base import BaseDANN
from ._classifier import DANNClassifier
from ._domains import TARGET_LABEL, stack_domains, target_mask
from ._grl import GradientReversal, gradient_reversal
from ._module import DANNModule, make_mlp
from ._regressor import DANNRegressor
from ._version import __version__
from .io import load, save

__all__ = [
    "BaseDANN",
    "DANNClassifier",
    "DANNModule",
    "DANNRegressor",
    "GradientReversal",
    "TARGET_LABEL",
    "__version__",
    "gradient_reversal",
    "load",
    "make_mlp",
    "save",
    "stack_domains",
    "target_mask",
]
