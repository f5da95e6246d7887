"""Grid search over a DANNClassifier pipeline on a dask.distributed cluster."""

import joblib
import numpy as np
import pytest
from sklearn.model_selection import GridSearchCV, StratifiedKFold
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

from skdann import DANNClassifier, stack_domains
from skdann.metrics import importance_weighted_scorer

from ._threads import torch_threads

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
    # Dask workers run PyTorch on one thread; so does the sequential run, for equal rounding.
    with torch_threads(1):
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
        with distributed.get_task_stream(client) as stream, joblib.parallel_config("dask"):
            distributed_search = _search().fit(X, y)
        worker_addresses = set(client.scheduler_info()["workers"])

    # The fold fits ran as tasks in the cluster's worker processes (joblib may batch them).
    assert stream.data
    assert all("fit_and_score" in str(task["key"]) for task in stream.data)
    assert {task["worker"] for task in stream.data} <= worker_addresses
    assert distributed_search.best_params_ == sequential.best_params_
    np.testing.assert_allclose(
        distributed_search.cv_results_["mean_test_score"],
        sequential.cv_results_["mean_test_score"],
        atol=1e-6,
    )
    assert distributed_search.best_estimator_.predict(X).shape == (len(X),)


def _visible_gpus_and_threads():
    import os

    return os.environ.get("CUDA_VISIBLE_DEVICES"), os.environ.get("OMP_NUM_THREADS")


@pytest.mark.slow
def test_one_gpu_per_worker_maps_each_worker_to_its_own_gpu(shifted_blobs):
    from skdann.model_selection import one_gpu_per_worker

    spec = one_gpu_per_worker([0, 1])
    assert list(spec) == ["gpu-0", "gpu-1"]
    X, y = stack_domains(*shifted_blobs[:3])
    with (
        distributed.SpecCluster(
            workers=spec,
            scheduler={
                "cls": distributed.Scheduler,
                "options": {"dashboard_address": None, "host": "127.0.0.1"},
            },
        ) as cluster,
        distributed.Client(cluster) as client,
    ):
        seen = client.run(_visible_gpus_and_threads)
        names = {
            info["name"]: address for address, info in client.scheduler_info()["workers"].items()
        }
        with distributed.get_task_stream(client) as stream, joblib.parallel_config("dask"):
            _search().fit(X, y)
    # Worker "gpu-k" sees GPU k only (CUDA numbers it 0 inside the worker), with one thread.
    assert {name: seen[address] for name, address in names.items()} == {
        "gpu-0": ("0", "1"),
        "gpu-1": ("1", "1"),
    }
    assert {task["worker"] for task in stream.data} == set(names.values())


@pytest.mark.parametrize(
    ("gpus", "threads", "message"),
    [
        ([], 1, "gpus must list distinct GPUs, got []."),
        ([0, "0"], 1, "gpus must list distinct GPUs, got ['0', '0']."),
        ([0], 0, "threads_per_worker must be at least 1, got 0."),
    ],
)
def test_one_gpu_per_worker_rejects_bad_arguments(gpus, threads, message):
    import re

    from skdann.model_selection import one_gpu_per_worker

    with pytest.raises(ValueError, match=re.escape(message)):
        one_gpu_per_worker(gpus, threads)
