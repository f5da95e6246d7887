"""Grid search over a DANNClassifier pipeline on a dask.distributed cluster."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, stack_domains
from skdann.metrics import importance_weighted_scorer

distributed = pytest.importorskip("distributed")


def _search():
    pipe = make_pipeline(
        StandardScaler(),
        DANNClassifier(hidden_layer_sizes=(16,), max_iter=8, batch_size=16, random_state=0),
    )
    grid = {
        "dannclassifier__adversarial_weight": [0.0, 0.3, 1.0],
        "dannclassifier__hidden_layer_sizes": [(16,), (32, 16)],
    }
    cv = StratifiedKFold(3, shuffle=True, random_state=0)
    return GridSearchCV(pipe, grid, scoring=importance_weighted_scorer, cv=cv, n_jobs=-1)


@pytest.mark.slow
def test_grid_search_on_a_local_dask_cluster_matches_the_sequential_run(shifted_blobs):
    X_source, y_source, X_target, _ = shifted_blobs
    X, y = stack_domains(X_source, y_source, X_target)
    sequential = _search().set_params(n_jobs=None).fit(X, y)

    with (
        distributed.LocalCluster(
            n_workers=2,
            threads_per_worker=1,
            processes=True,
            host="127.0.0.1",
            dashboard_address=None,
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        with distributed.get_task_stream(client) as stream, joblib.parallel_backend("dask"):
            distributed_search = _search().fit(X, y)
        worker_addresses = set(client.scheduler_info()["workers"])

    # Every fold fit (6 grid points x 3 folds) ran in the cluster's worker processes.
    assert len(stream.data) >= 18
    assert {task["worker"] for task in stream.data} <= worker_addresses
    # The grid is not a tie, so equal best_params_ means the same models were trained.
    assert np.ptp(sequential.cv_results_["mean_test_score"]) > 0.01
    assert distributed_search.best_params_ == sequential.best_params_
    np.testing.assert_allclose(
        distributed_search.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
        atol=1e-6,
    )
    assert distributed_search.best_estimator_.predict(X).shape == (len(X),)
