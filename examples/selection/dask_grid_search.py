"""
=============================
Grid search on a Dask cluster
=============================

:class:`~sklearn.model_selection.GridSearchCV` hands its fits to joblib, and
joblib can send them to the workers of a `dask.distributed
<https://distributed.dask.org>`_ cluster. Nothing in the estimator changes:
connect a client, then run the search inside
``joblib.parallel_config("dask")``. Install the extra first:
``pip install 'skdann[dask]'``.

.. note::

   This example is shown but not run when the documentation is built: it
   starts a cluster of worker processes. Its code sits under
   ``if __name__ == "__main__":`` because worker processes may import the
   script again, and must not start a cluster of their own when they do.

Each (grid point, fold) fit runs in a worker; the refit of the best point
runs in this process. Give each worker one thread, so that two fits never
share a worker's PyTorch threads.
"""

import joblib
import matplotlib.pyplot as plt
import numpy as np
from dask.distributed import Client, LocalCluster
from sklearn.datasets import make_moons
from sklearn.model_selection import GridSearchCV

from skdann import DANNClassifier, stack_domains
from skdann.metrics import prediction_entropy_scorer
from skdann.model_selection import DomainStratifiedKFold


def rotated_moons():
    """150 source rows and 150 unlabeled target rows rotated by 35 degrees, stacked."""
    theta = np.deg2rad(35)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    X_source, y_source = make_moons(150, noise=0.1, random_state=0)
    X_target = make_moons(150, noise=0.1, random_state=1)[0] @ rotation.T
    return stack_domains(X_source, y_source, X_target)


def main():
    """Search λ and the hidden layer on a local two-worker cluster."""
    X, y = rotated_moons()
    search = GridSearchCV(
        DANNClassifier(max_iter=100, batch_size=32, random_state=0),
        {"adversarial_weight": [0.0, 0.3, 1.0, 3.0], "hidden_layer_sizes": [(15,), (50, 50)]},
        scoring=prediction_entropy_scorer,
        cv=DomainStratifiedKFold(n_splits=3, shuffle=True, random_state=0),
        n_jobs=-1,  # as many tasks at once as the cluster has worker threads
    )
    # A real cluster: Client("tcp://scheduler:8786") instead of the LocalCluster.
    with LocalCluster(n_workers=2, threads_per_worker=1) as cluster, Client(cluster) as client:
        print(f"dashboard: {client.dashboard_link}")
        with joblib.parallel_config("dask"):
            search.fit(X, y)

    print(f"best parameters: {search.best_params_}")
    results = search.cv_results_
    for params, score in zip(results["params"], results["mean_test_score"], strict=True):
        print(f"  {params}: mean prediction entropy score {score:.3f}")

    _, ax = plt.subplots(layout="constrained")
    for hidden in [(15,), (50, 50)]:
        rows = [i for i, p in enumerate(results["params"]) if p["hidden_layer_sizes"] == hidden]
        weights = [results["params"][i]["adversarial_weight"] for i in rows]
        ax.plot(weights, results["mean_test_score"][rows], "o-", label=f"hidden {hidden}")
    ax.set_xlabel("λ (adversarial_weight)")
    ax.set_ylabel("mean prediction entropy score")
    ax.legend()
    plt.show()


# %%
# With ``random_state`` set, a CPU search on the cluster trains the same
# models as a sequential one run with one PyTorch thread per fit (Dask's
# workers start with ``OMP_NUM_THREADS=1``): the project's
# ``tests/test_dask.py`` checks that ``best_params_`` and every mean score
# match. On several GPUs, give every worker its own (``dask_cuda``'s
# ``LocalCUDACluster``, or ``CUDA_VISIBLE_DEVICES`` per worker); see the
# :doc:`model selection guide </model_selection>`.

if __name__ == "__main__":
    main()

# sphinx_gallery_thumbnail_path = "_static/thumb_dask_grid_search.png"
