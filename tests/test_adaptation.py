"""DANN must beat the same network trained source-only on shifted data.

Each test compares the MEAN target accuracy over seeds 0-4 of DANN and of the
same network with ``adversarial_weight=0`` (source-only), fitted with the
same seeds, against a margin. The margins were set on seeds 5-9, which the
tests do not use: well below ``mean gain - 2 sd / sqrt(5)`` there (the mean
paired gain minus two standard errors), then checked on seeds 0-4. Measured
on the CPU with two torch threads (what CI has; the fixture below fixes it),
accuracy on the target rows used for adaptation, with a throw-away script
looping over ``DANNClassifier(random_state=seed, ...)`` for seeds 0-9.

A regression that keeps lambda from reaching the gradient reversal layer
makes DANN train exactly as source-only (a mean gain of 0.000 in every test,
checked); a layer that passes the domain gradient unreversed makes the gain
negative.
"""

import numpy as np
import pytest

from skdann import DANNClassifier

from ._threads import torch_threads
from .conftest import SHARED_DATA, rotated_moons

SEEDS = range(5)
# The settings the margins were measured with (the package defaults before issue 19
# changed them): these tests are about DANN's gain, not about the defaults.
METHOD = {"objective": "dann", "alpha": 1e-4, "learning_rate_init": 0.05}


@pytest.fixture(autouse=True)
def _two_torch_threads():
    with torch_threads(2):
        yield


def _target_accuracies(X_source, y_source, X_target, y_target, **params):
    return np.array(
        [
            DANNClassifier(random_state=seed, **{**METHOD, **params})
            .fit(X_source, y_source, X_target)
            .score(X_target, y_target)
            for seed in SEEDS
        ]
    )


def _assert_mean_gain(data, adversarial_weight, margin, **params):
    source_only = _target_accuracies(*data, adversarial_weight=0.0, **params)
    dann = _target_accuracies(*data, adversarial_weight=adversarial_weight, **params)
    gain = float(np.mean(dann - source_only))
    assert gain >= margin, {
        "source_only": source_only.round(3).tolist(),
        "dann": dann.round(3).tolist(),
        "mean gain": round(gain, 3),
    }


def test_jmlr_rotated_moons():
    # JMLR section 5.1.1: 150 points per domain, target rotated by 35 degrees, one hidden
    # layer of 15 units (200 epochs, batches of 32).
    #
    # lambda = 3, not the default 1: at lambda = 1 the outcome splits over seeds. DANN
    # gains +0.127 to +0.247 on 4 of seeds 0-9 (1, 2, 3, 8) and -0.040 to +0.027 on the
    # other 6 (below source-only on seeds 4, 5 and 7); mean gain +0.076, sd 0.120, and
    # +0.043 (sd 0.117) on seeds 5-9, whose mean minus 2 standard errors is -0.062: no
    # margin above 0 can be justified for a mean of 5 seeds. At lambda = 3 every seed
    # of 0-9 gains at least +0.133. Measured at lambda = 3, target accuracy:
    #   seeds 5-9 (margin): gain +0.188, sd 0.022, mean - 2 se = +0.168;
    #   seeds 0-4 (tested): source-only 0.703, DANN 0.881, gain +0.179 (min +0.133).
    data = rotated_moons(150, angle=35.0, seed=0)
    params = {"hidden_layer_sizes": (15,), "max_iter": 200, "batch_size": 32}
    _assert_mean_gain(data, 3.0, margin=0.12, **params)


def _digits(source, target):
    folder = SHARED_DATA / "mnist_usps"
    if not folder.exists():
        pytest.skip(f"benchmark data not found at {folder}")
    src, tgt = np.load(folder / f"{source}.npz"), np.load(folder / f"{target}.npz")
    return src["X"], src["y"], tgt["X"], tgt["y"]


@pytest.mark.slow
def test_real_shift_usps_to_mnist():
    # Package defaults (lambda = 1), raw pixels, 20 epochs. Target accuracy:
    #   seeds 5-9 (margin): gain +0.169, sd 0.066, mean - 2 se = +0.110;
    #   seeds 0-4 (tested): source-only 0.336, DANN 0.493, gain +0.157 (min +0.121).
    _assert_mean_gain(_digits("usps", "mnist"), 1.0, margin=0.07, max_iter=20)


@pytest.mark.slow
def test_real_shift_mnist_to_usps():
    # Raw pixels, 20 epochs, lambda = 0.1, not the default 1: at lambda = 1 DANN gains
    # nothing reliable in this direction within 20 epochs: gain +0.017, sd 0.071 over
    # seeds 0-9, below source-only on 3 of them (seed 4: 0.384 against 0.507), -0.012 on
    # seeds 0-4. At lambda = 0.1 every seed of 0-9 gains at least +0.037. Measured at
    # lambda = 0.1, target accuracy:
    #   seeds 5-9 (margin): gain +0.062, sd 0.018, mean - 2 se = +0.046;
    #   seeds 0-4 (tested): source-only 0.495, DANN 0.540, gain +0.045 (min +0.037).
    _assert_mean_gain(_digits("mnist", "usps"), 0.1, margin=0.02, max_iter=20)
