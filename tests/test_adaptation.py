"""DANN must beat the same network trained source-only on shifted data.

Margins were measured with these seeds and settings (see each test) and set
below the measured gains, so a regression that kills the adversarial signal
fails them.
"""

import numpy as np
import pytest

from skdann import DANNClassifier

from .conftest import SHARED_DATA, rotated_moons


def _target_accuracy(adversarial_weight, seeds, X_source, y_source, X_target, y_target, **kw):
    scores = [
        DANNClassifier(adversarial_weight=adversarial_weight, random_state=seed, **kw)
        .fit(X_source, y_source, X_target)
        .score(X_target, y_target)
        for seed in seeds
    ]
    return float(np.mean(scores))


def test_jmlr_rotated_moons():
    # JMLR section 5.1.1: 150 points per domain, target rotated by 35 degrees,
    # one hidden layer of 15 units. Measured: source-only 0.70, DANN 0.89.
    data = rotated_moons(150, angle=35.0, seed=0)
    kw = {"hidden_layer_sizes": (15,), "max_iter": 200, "batch_size": 32}
    source_only = _target_accuracy(0.0, range(3), *data, **kw)
    dann = _target_accuracy(3.0, range(3), *data, **kw)
    assert dann >= source_only + 0.10, (source_only, dann)


@pytest.mark.slow
@pytest.mark.parametrize(
    ("source", "target", "margin"),
    # Measured (raw pixels, 20 epochs, seeds 0-1): mnist->usps 0.49 -> 0.53,
    # usps->mnist 0.35 -> 0.52.
    [("mnist", "usps", 0.02), ("usps", "mnist", 0.10)],
)
def test_real_shift_mnist_usps(source, target, margin):
    folder = SHARED_DATA / "mnist_usps"
    if not folder.exists():
        pytest.skip(f"benchmark data not found at {folder}")
    src, tgt = np.load(folder / f"{source}.npz"), np.load(folder / f"{target}.npz")
    data = (src["X"], src["y"], tgt["X"], tgt["y"])
    source_only = _target_accuracy(0.0, range(2), *data, max_iter=20)
    dann = _target_accuracy(1.0, range(2), *data, max_iter=20)
    assert dann >= source_only + margin, (source_only, dann)
