"""skdann: domain-adversarial neural networks (DANN) for scikit-learn.

The public names are imported on first use (PEP 562), so that ``import
skdann`` and the ``skdann`` command line start without loading torch, skorch
or scikit-learn; ``from skdann import DANNClassifier`` works as usual.
"""

import importlib

from ._version import __version__ as __version__

_PUBLIC = {
    "BaseDANN": "._base",
    "DANNClassifier": "._classifier",
    "DANNModule": "._module",
    "DANNRegressor": "._regressor",
    "GradientReversal": "._grl",
    "TARGET_LABEL": "._domains",
    "gradient_reversal": "._grl",
    "load": ".io",
    "make_mlp": "._module",
    "recommended_estimator": "._recommend",
    "save": ".io",
    "stack_domains": "._domains",
    "target_mask": "._domains",
}

_SUBMODULES = (
    "batched", "cli", "datasets", "demo", "ensemble", "io", "label_shift", "metrics",
    "model_selection", "objectives", "plotting", "schedules",
)  # fmt: skip

__all__ = sorted([*_PUBLIC, "__version__"])


def __getattr__(name):
    if name in _SUBMODULES:  # ``import skdann; skdann.io.load(...)`` as before
        return importlib.import_module(f".{name}", __name__)
    if name not in _PUBLIC:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(_PUBLIC[name], __name__), name)
    globals()[name] = value  # later look-ups skip this function
    return value


def __dir__():
    return sorted({*globals(), *_PUBLIC, *_SUBMODULES})
