"""
===========================
Regression on rotated moons
===========================

:class:`~skdann.DANNRegressor` on a regression version of the rotated-moons
toy problem. Each point lies on one of two half-moons; the value to predict
is its position along its moon, from 0 at one tip to 1 at the other. The
source rows are labeled; the target rows are the same kind of points rotated
by 35 degrees, unlabeled.

In the stacked form a regressor's target rows are marked by NaN in ``y``;
the three-argument ``fit(X_source, y_source, X_target)`` used here does the
same for you. Source-only is the same network with
``adversarial_weight=0``.
"""

import matplotlib.pyplot as plt
import numpy as np

from skdann import DANNRegressor


def moons_with_positions(n_samples, seed, noise=0.1):
    """Two half-moons like ``make_moons``, and each point's position along its moon."""
    rng = np.random.RandomState(seed)
    angle = rng.uniform(0, np.pi, n_samples)
    upper = rng.rand(n_samples) < 0.5
    X = np.column_stack(
        [
            np.where(upper, np.cos(angle), 1 - np.cos(angle)),
            np.where(upper, np.sin(angle), 0.5 - np.sin(angle)),
        ]
    )
    X += noise * rng.normal(size=X.shape)
    return X, angle / np.pi


def rotate(X, degrees):
    """Rotate the rows of ``X`` (2-D points) counter-clockwise."""
    theta = np.deg2rad(degrees)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return X @ rotation.T


X_source, y_source = moons_with_positions(150, seed=0)
X_target = rotate(moons_with_positions(150, seed=1)[0], 35)
X_test, y_test = moons_with_positions(1000, seed=2)
X_test = rotate(X_test, 35)

# %%
# Source-only against DANN, three seeds
# -------------------------------------
#
# The network and λ of :ref:`the classification example
# <sphx_glr_auto_examples_adaptation_plot_rotated_moons.py>`: one hidden
# layer of 15 units, 200 epochs, λ = 3. ``score`` is the R² on the rows
# given, here 1,000 fresh rotated rows.

params = {"hidden_layer_sizes": (15,), "max_iter": 200, "batch_size": 32}
models = {"source-only": 0.0, "DANN": 3.0}
seeds = [0, 1, 2]

fitted = {}
r2 = {name: [] for name in models}
for seed in seeds:
    for name, weight in models.items():
        reg = DANNRegressor(adversarial_weight=weight, random_state=seed, **params)
        reg.fit(X_source, y_source, X_target)
        r2[name].append(reg.score(X_test, y_test))
        fitted[name, seed] = reg

print("target R2        " + "  ".join(f"seed {seed}" for seed in seeds) + "    mean")
for name in models:
    row = "  ".join(f"{value:6.3f}" for value in r2[name])
    print(f"{name:>15}  {row}  {np.mean(r2[name]):6.3f}")

# %%
# DANN's R² on the target is higher on each of these seeds. This is a toy,
# and λ was carried over from the classification example rather than
# chosen for this problem: with λ = 1 this network gains on one seed of the
# three and loses a little on the other two.
#
# Predictions against the truth
# -----------------------------
#
# The models of seed 0 on the held-out target rows. A perfect model puts
# every point on the diagonal.

fig, axes = plt.subplots(1, 2, figsize=(10, 4.5), sharex=True, sharey=True, layout="constrained")
for ax, name in zip(axes, models, strict=True):
    y_pred = fitted[name, seeds[0]].predict(X_test)
    ax.scatter(y_test, y_pred, s=6, alpha=0.5)
    ax.plot([0, 1], [0, 1], color="k", linestyle="--", label="perfect prediction")
    ax.set_xlabel("true position along the moon")
    ax.set_title(f"{name}: target R² {r2[name][0]:.3f}")
axes[0].set_ylabel("predicted position")
axes[0].legend(loc="upper left")
plt.show()

# %%
# Where the errors are
# --------------------
#
# The same target rows coloured by their true position and by each model's
# prediction. The source rows (grey) show where the network was trained.

fig, axes = plt.subplots(1, 3, figsize=(15, 4.5), sharex=True, sharey=True, layout="constrained")
colours = {"truth": y_test}
colours.update({name: fitted[name, seeds[0]].predict(X_test) for name in models})
for ax, (title, values) in zip(axes, colours.items(), strict=True):
    ax.scatter(*X_source.T, color="0.8", s=8, label="source rows")
    points = ax.scatter(*X_test.T, c=values, cmap="viridis", vmin=0, vmax=1, s=8)
    ax.set_title(title)
axes[0].legend(loc="lower left")
fig.colorbar(points, ax=axes, label="position along the moon")
plt.show()
