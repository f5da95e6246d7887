"""
=======================================
Rotated moons: source-only against DANN
=======================================

The toy problem of Ganin et al. (2016, Section 5.1.1): the source domain is
scikit-learn's two interleaving half-moons, labeled; the target domain is the
same moons rotated by 35 degrees, unlabeled. A network trained on the source
alone draws its boundary for the unrotated moons and misclassifies the tips
of the rotated ones. A DANN trains the same network while a domain head,
reached through the gradient reversal layer, tries to tell the two domains
apart; the features that fool it also carry the boundary over to the rotated
moons.

Both models are the paper's network: one hidden layer of 15 units, 200
epochs, batches of 32 rows per domain. The only difference is
``adversarial_weight``: 0 for source-only, 3 for DANN.
"""

import matplotlib.pyplot as plt
import numpy as np
from sklearn.datasets import make_moons
from sklearn.inspection import DecisionBoundaryDisplay

from skdann import DANNClassifier
from skdann.plotting import TrainingHistoryDisplay


def rotate(X, degrees):
    """Rotate the rows of ``X`` (2-D points) counter-clockwise."""
    theta = np.deg2rad(degrees)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return X @ rotation.T


# %%
# The data
# --------
#
# 150 labeled source rows and 150 unlabeled target rows, as in the paper. The
# target accuracy is measured on 1,000 fresh rotated rows that no model sees
# during training.

X_source, y_source = make_moons(150, noise=0.1, random_state=0)
X_target = rotate(make_moons(150, noise=0.1, random_state=1)[0], 35)
X_test, y_test = make_moons(1000, noise=0.1, random_state=2)
X_test = rotate(X_test, 35)

# %%
# Three seeds, two models each
# ----------------------------
#
# One seed can flatter either model, so each is trained with seeds 0, 1 and
# 2, and the mean target accuracy is what to compare.
#
# Why ``adversarial_weight=3`` and not the default 1? On this toy problem the
# project's tests (``tests/test_adaptation.py``) found that at λ = 1 the
# outcome splits over seeds: DANN gains 15 to 28 points on most seeds but
# trails source-only on a few, while at λ = 3 it gained on each of 20
# seeds. That was measured with the target labels, which a real task does
# not have; :ref:`sphx_glr_auto_examples_selection_plot_choose_lambda.py`
# shows how to choose λ without them.
#
# ``label_shift_warning=None`` turns off the label-shift check. ``make_moons``
# draws half of the rows from each moon, in both domains, so the class
# proportions do not shift; but the check estimates them from the
# predictions after the first epoch, assuming that only the proportions
# differ between the domains, and it reads the rotation as a change of
# proportions: left on, it raises a
# :class:`~skdann.label_shift.LabelShiftWarning` at every fit here, a false
# alarm. Leave it on for your own data, where you do not know the target's
# proportions.

params = {
    "hidden_layer_sizes": (15,),
    "max_iter": 200,
    "batch_size": 32,
    "label_shift_warning": None,  # balanced classes in both domains (see above)
}
models = {"source-only": 0.0, "DANN": 3.0}
seeds = [0, 1, 2]

fitted = {}
accuracy = {name: [] for name in models}
for seed in seeds:
    for name, weight in models.items():
        clf = DANNClassifier(adversarial_weight=weight, random_state=seed, **params)
        clf.fit(X_source, y_source, X_target)
        accuracy[name].append(clf.score(X_test, y_test))
        fitted[name, seed] = clf

print("target accuracy  " + "  ".join(f"seed {seed}" for seed in seeds) + "    mean")
for name in models:
    row = "  ".join(f"{value:6.3f}" for value in accuracy[name])
    print(f"{name:>15}  {row}  {np.mean(accuracy[name]):6.3f}")
wins = sum(d > s for d, s in zip(accuracy["DANN"], accuracy["source-only"], strict=True))
print(f"DANN is ahead of source-only on {wins} of {len(seeds)} seeds.")

# %%
# With these seeds DANN is ahead on every seed, by about 20 points of target
# accuracy on average (the printout above is recomputed at every build; the
# exact figures depend on the number of CPU threads PyTorch uses).

# %%
# Decision boundaries
# -------------------
#
# The models of seed 0. The background is the predicted probability of class
# 1; the coloured dots are the labeled source rows, the black crosses the
# unlabeled target rows the models adapted to.

X_all = np.vstack([X_source, X_target])
fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True, layout="constrained")
for ax, name in zip(axes, models, strict=True):
    clf = fitted[name, seeds[0]]
    DecisionBoundaryDisplay.from_estimator(
        clf, X_all, response_method="predict_proba", cmap="coolwarm", alpha=0.4, ax=ax, eps=0.5
    )
    ax.scatter(*X_source.T, c=y_source, cmap="coolwarm", s=15, edgecolor="k", label="source")
    ax.scatter(*X_target.T, marker="x", color="k", s=15, label="target (unlabeled)")
    ax.set_title(f"{name}: target accuracy {accuracy[name][0]:.3f}")
axes[0].legend(loc="lower left")
plt.show()

# %%
# The source-only boundary follows the unrotated moons, and cuts through the
# tips of the rotated ones. The DANN boundary is bent towards the target
# rows.
#
# Training curves
# ---------------
#
# :class:`~skdann.plotting.TrainingHistoryDisplay` draws the history of the
# DANN fit. λ ramps up from 0 to 3 and the learning rate anneals, as in the
# paper. The domain head's accuracy stays not far above chance (0.5), at
# about 0.55 to 0.65: the features give it little to tell the domains
# apart by.

TrainingHistoryDisplay.from_estimator(fitted["DANN", seeds[0]])
plt.show()
