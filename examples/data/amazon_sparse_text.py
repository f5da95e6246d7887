"""
====================================
Amazon reviews: sparse text features
====================================

Sentiment of product reviews, adapted from one product category to another:
the task of Section 5.1 of Ganin et al. (2016). Each review is a row of
5,000 word and bigram counts (Blitzer et al., 2007, in the version the JMLR
paper's authors published with their code), a positive or negative label,
and one of four categories: books, dvd, electronics, kitchen. Here the
source is *books* (2,000 labeled reviews) and the target *kitchen* (2,000
unlabeled reviews to adapt to, 5,945 labeled ones to measure accuracy).

.. note::

   This example is shown but not run when the documentation is built: the
   data do not ship with skdann. Point ``SKDANN_DATA`` at a folder holding
   ``amazon_reviews/<category>_<split>_X.npz`` (a SciPy sparse matrix) and
   ``<category>_<split>_y.npz`` (key ``y``, 0 or 1), such as the
   ``shared/data`` folder of the project's CI. It takes a few minutes on a
   CPU.

The counts stay sparse all the way: :func:`~skdann.stack_domains` stacks
sparse matrices, :class:`~sklearn.feature_extraction.text.TfidfTransformer`
reweights them, and :class:`~skdann.DANNClassifier` takes sparse input and
densifies one batch at a time.
"""

import os
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import scipy.sparse as sp
from sklearn.feature_extraction.text import TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import make_pipeline

from skdann import DANNClassifier, stack_domains
from skdann.plotting import TrainingHistoryDisplay

DATA = Path(os.environ.get("SKDANN_DATA", "../shared/data")) / "amazon_reviews"


def load(category, split):
    """Sparse counts and labels of one category's ``train`` or ``test`` split."""
    X = sp.load_npz(DATA / f"{category}_{split}_X.npz").tocsr()
    y = np.load(DATA / f"{category}_{split}_y.npz")["y"]
    return X, y


X_source, y_source = load("books", "train")
X_target, _ = load("kitchen", "train")  # the labels of these rows are not used
X_test, y_test = load("kitchen", "test")
X, y = stack_domains(X_source, y_source, X_target)
print(f"stacked: {type(X).__name__} of shape {X.shape}, {X.nnz:,} stored counts")

# %%
# Three models
# ------------
#
# A logistic regression trained on the source reviews, and a tf-idf pipeline
# with a source-only network and with a DANN (the package defaults: two
# hidden layers of 100 units, λ = 1, 100 epochs). The tf-idf weights are
# fitted on the reviews of both categories. The logistic regression cannot
# take the stacked ``y`` (it would learn ``-1`` as a third class), so it is
# fitted on the source rows alone.

tfidf = TfidfTransformer(sublinear_tf=True).fit(X)
logistic = LogisticRegression(max_iter=2000).fit(tfidf.transform(X_source), y_source)
accuracy = {"logistic regression": logistic.score(tfidf.transform(X_test), y_test)}

models = {}
for name, weight in [("source-only", 0.0), ("DANN", 1.0)]:
    model = make_pipeline(
        TfidfTransformer(sublinear_tf=True),
        DANNClassifier(adversarial_weight=weight, random_state=0),
    )
    models[name] = model.fit(X, y)
    accuracy[name] = model.score(X_test, y_test)

for name, value in accuracy.items():
    print(f"{name:>19}: books -> kitchen target accuracy {value:.3f}")

# %%
# It prints about 0.78 for the logistic regression, 0.76 for source-only
# and 0.83 for DANN. In the project's benchmark
# (``python -m benchmarks.accuracy --dataset amazon``, 5 seeds), DANN beats
# source-only on all 12 ordered pairs of categories, 0.810 against 0.772 on
# average, and books -> kitchen is one of its larger gains (0.833 against
# 0.762).
#
# Training curves
# ---------------
#
# The DANN's source label loss falls close to zero within about 20 epochs.
# The accuracy of its domain head stays near chance (between about 0.4 and
# 0.65) throughout: the features give it little to tell books reviews from
# kitchen reviews by. That is the game DANN plays, not proof that the
# domains cannot be told apart: the :doc:`model selection guide
# </model_selection>` shows a freshly trained linear probe still separating
# them on these data.

TrainingHistoryDisplay.from_estimator(models["DANN"])
plt.show()

# sphinx_gallery_thumbnail_path = "_static/thumb_amazon_sparse_text.png"
