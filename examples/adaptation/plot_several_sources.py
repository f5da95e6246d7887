"""
======================
Several source domains
======================

Labeled rows often come from several places: hospitals, plants, shops, of
different sizes. ``fit(X, y, sample_domain=ids)`` tells a DANN which rows
come from which domain: positive ids for source domains, negative ids for
target domains. Two things change against pooling all labeled rows into one
source:

* every training step takes ``batch_size`` rows from *each* domain, so a
  small domain weighs as much as a large one;
* the domain head has one output per domain, and the features are trained
  so that it can tell none of them apart, source domains included.

This example separates the two effects on synthetic data: three source
domains of 300, 100 and 30 rows (two half-moons rotated by 0, 20 and 40
degrees) and an unlabeled target domain rotated by 50 degrees.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons

from skdann import DANNClassifier
from skdann.plotting import FeatureEmbeddingDisplay


def rotate(X, degrees):
    """Rotate the rows of ``X`` (2-D points) counter-clockwise."""
    theta = np.deg2rad(degrees)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return X @ rotation.T


sources = [(1, 0, 300), (2, 20, 100), (3, 40, 30)]  # (domain id, rotation, rows)
X_parts, y_parts, domain_parts = [], [], []
for domain, degrees, n_rows in sources:
    X_domain, y_domain = make_moons(n_rows, noise=0.1, random_state=10 + domain)
    X_parts.append(rotate(X_domain, degrees))
    y_parts.append(y_domain)
    domain_parts.append(np.full(n_rows, domain))

X_target = rotate(make_moons(150, noise=0.1, random_state=0)[0], 50)
X_test, y_test = make_moons(1000, noise=0.1, random_state=1)
X_test = rotate(X_test, 50)

# The stacked form: source rows, then target rows labeled -1 (domain id -1).
X = np.vstack([*X_parts, X_target])
y = np.concatenate([*y_parts, np.full(len(X_target), -1)])
sample_domain = np.concatenate([*domain_parts, np.full(len(X_target), -1)])

# %%
# Four models, three seeds
# ------------------------
#
# Pooled (no ``sample_domain``: one source domain of 430 rows) or per domain
# (``sample_domain``), each with ``adversarial_weight`` 0 (source-only) and 1
# (DANN). Only the per-domain fits receive ``sample_domain``. Every domain
# holds half of each moon, so the label-shift check, which would read the
# rotations as a change of the class proportions, is off
# (``label_shift_warning=None``; see
# :ref:`sphx_glr_auto_examples_adaptation_plot_rotated_moons.py`).

params = {
    "hidden_layer_sizes": (15,),
    "max_iter": 100,
    "batch_size": 32,
    "label_shift_warning": None,  # balanced classes in every domain
}
models = {
    "pooled, source-only": (0.0, False),
    "pooled, DANN": (1.0, False),
    "per domain, source-only": (0.0, True),
    "per domain, DANN": (1.0, True),
}
seeds = [0, 1, 2]

accuracy = {name: [] for name in models}
fitted = {}
for seed in seeds:
    for name, (weight, per_domain) in models.items():
        clf = DANNClassifier(adversarial_weight=weight, random_state=seed, **params)
        clf.fit(X, y, sample_domain=sample_domain if per_domain else None)
        accuracy[name].append(clf.score(X_test, y_test))
        fitted[name, seed] = clf

print("target accuracy          " + "  ".join(f"seed {seed}" for seed in seeds) + "    mean")
for name in models:
    row = "  ".join(f"{value:6.3f}" for value in accuracy[name])
    print(f"{name:>23}  {row}  {np.mean(accuracy[name]):6.3f}")
print(f"domains seen by the per-domain DANN: {fitted['per domain, DANN', 0].n_domains_}")

# %%
# Here the per-domain models are the most accurate, and most of their lead
# over the pooled ones comes from the balanced batches: the per-domain
# *source-only* network gains nearly as much as the per-domain DANN. The
# smallest source domain, rotated by 40 degrees, is the closest to the
# target, and pooling drowns it among the 300 unrotated rows. On top of
# balanced batches the adversarial term adds about a point (not on every
# seed); on top of pooled ones, several.
#
# What the per-domain domain head adds beyond the balanced batches depends
# on the data. With three source domains of 200 rows each (rotated by 0, 20
# and 40 degrees, target at 60), the per-domain DANN was 4 points ahead of
# the pooled DANN on one draw of the data and 5 points behind on another
# (means of three seeds): asking the features to hide which *source* a row
# came from is a stronger constraint than hiding source from target. Compare
# both on your data, choosing without target labels as in
# :ref:`sphx_glr_auto_examples_selection_plot_choose_lambda.py`.

fig, ax = plt.subplots(figsize=(7, 4), layout="constrained")
names = list(models)
means = [np.mean(accuracy[name]) for name in names]
ax.barh(names, means, color=["C7", "C0", "C7", "C0"])
for i, name in enumerate(names):
    ax.plot(accuracy[name], [i] * len(seeds), "k.", label="one seed" if i == 0 else None)
ax.set_xlim(0.5, 1)
ax.invert_yaxis()
ax.set_xlabel("target accuracy (bars: mean over seeds)")
ax.legend(loc="upper right")
plt.show()

# %%
# The domains, before and after
# -----------------------------
#
# :class:`~skdann.plotting.FeatureEmbeddingDisplay` gives each domain id its
# own colour when it is given ``sample_domain``. On the left, the inputs
# themselves (they are 2-D, so the display is built directly from them);
# on the right, a PCA of the features the per-domain DANN (seed 0) learned.

is_target = y == -1
fig, axes = plt.subplots(1, 2, figsize=(12, 5), layout="constrained")
inputs = FeatureEmbeddingDisplay(X, is_target, labels=y, domains=sample_domain, title="Inputs")
inputs.plot(ax=axes[0])
FeatureEmbeddingDisplay.from_estimator(
    fitted["per domain, DANN", 0], X, y, sample_domain=sample_domain, ax=axes[1]
)
plt.show()

# sphinx_gallery_thumbnail_number = 2
