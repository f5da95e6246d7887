"""Cross-validation splitters that keep every domain in every fold, and search workers."""

import numpy as np
from sklearn.model_selection import BaseCrossValidator, StratifiedKFold

from ._domains import target_mask

__all__ = ["DomainStratifiedKFold", "one_gpu_per_worker"]


class DomainStratifiedKFold(BaseCrossValidator):
    """K-fold that keeps each domain's share, and each class's share among source rows.

    A fold of :class:`~sklearn.model_selection.KFold` on stacked data can
    hold no target rows at all (stacked data puts them last), and then no
    label-free scorer can score it. This splitter stratifies on the domain of
    each row and, for the labeled source rows of a classifier, on the class
    as well, so every training and validation fold keeps about the same mix
    of domains (and classes) as the whole data.

    Domains are read from ``sample_domain`` (or ``groups``) when given:
    positive ids are source domains, negative ids target domains. Otherwise
    the target rows are those marked in ``y``: ``-1`` (or ``"-1"``), or NaN
    in a float ``y`` that holds NaN (a regressor's marker).

    Parameters
    ----------
    n_splits : int, default=5
        Number of folds, at least 2.
    shuffle : bool, default=False
        Whether to shuffle each stratum's rows before splitting.
    random_state : int, RandomState instance or None, default=None
        Seeds the shuffling when ``shuffle=True``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann.model_selection import DomainStratifiedKFold
    >>> y = np.r_[np.zeros(6), np.full(6, np.nan)]  # regression: NaN marks target rows
    >>> folds = DomainStratifiedKFold(n_splits=3).split(np.zeros((12, 1)), y)
    >>> [int(np.isnan(y[test]).sum()) for _, test in folds]
    [2, 2, 2]
    """

    __metadata_request__split = {"groups": True, "sample_domain": True}

    def __init__(self, n_splits=5, *, shuffle=False, random_state=None):
        self.n_splits = n_splits
        self.shuffle = shuffle
        self.random_state = random_state

    def get_n_splits(self, X=None, y=None, groups=None, sample_domain=None):
        """Return the number of folds, ``n_splits``."""
        return self.n_splits

    def split(self, X, y, groups=None, sample_domain=None):
        """Generate indices to split data into training and validation folds.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            Training data (only its length is used).
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets with the target rows marked (``-1`` or NaN).
        groups : array-like of shape (n_samples,), default=None
            Domain ids, when ``sample_domain`` is not given.
        sample_domain : array-like of shape (n_samples,), default=None
            Domain ids: positive for source domains, negative for target ones.

        Yields
        ------
        train, test : ndarray
            Indices of the training and validation rows of each fold.
        """
        strata = self._strata(y, sample_domain if sample_domain is not None else groups)
        stratified = StratifiedKFold(
            self.n_splits, shuffle=self.shuffle, random_state=self.random_state
        )
        yield from stratified.split(np.zeros(len(strata)), strata)

    @staticmethod
    def _strata(y, domains):
        if y is None:
            raise ValueError("DomainStratifiedKFold needs y, whose markers tell target rows.")
        y = np.asarray(y)
        regression = y.dtype.kind == "f" and np.isnan(y).any()
        is_target = target_mask(y, regression=regression)
        if domains is not None:
            domains = np.asarray(domains)
            if domains.shape != (len(y),):
                raise ValueError(
                    f"sample_domain (or groups) must hold one id per row: got shape "
                    f"{domains.shape} for {len(y)} rows."
                )
            domain_key = domains.astype(str)
        else:
            domain_key = np.where(is_target, "target", "source")
        if regression or y.ndim > 1:
            return domain_key
        class_key = np.where(is_target, "", y.astype(str))
        return np.char.add(np.char.add(domain_key, "|"), class_key)


def one_gpu_per_worker(gpus, threads_per_worker=1):
    """Worker specification for a Dask ``SpecCluster``: one worker process per GPU.

    Each worker process sees only its own GPU (``CUDA_VISIBLE_DEVICES``), so
    an estimator with ``device="auto"`` (or ``"cuda"``) fitted on it trains
    on that GPU, and runs PyTorch's CPU work on ``threads_per_worker``
    threads (``OMP_NUM_THREADS``). It needs only ``dask.distributed``, not
    ``dask-cuda``.

    Parameters
    ----------
    gpus : sequence of int or str
        The GPUs to use, as CUDA numbers them on this machine (or UUIDs).
    threads_per_worker : int, default=1
        Threads of each worker; keep 1 so that fits never share a worker.

    Returns
    -------
    dict
        ``{"gpu-<id>": {"cls": Nanny, "options": {...}}}``, for
        ``SpecCluster(workers=...)``.

    Examples
    --------
    >>> from distributed import Client, Scheduler, SpecCluster  # doctest: +SKIP
    >>> cluster = SpecCluster(  # doctest: +SKIP
    ...     workers=one_gpu_per_worker([0, 1]), scheduler={"cls": Scheduler, "options": {}}
    ... )
    >>> with Client(cluster), joblib.parallel_config("dask"):  # doctest: +SKIP
    ...     search.fit(X, y)
    """
    from distributed import Nanny

    threads = int(threads_per_worker)
    if threads < 1:
        raise ValueError(f"threads_per_worker must be at least 1, got {threads_per_worker}.")
    gpus = [str(gpu) for gpu in gpus]
    if not gpus or len(set(gpus)) != len(gpus):
        raise ValueError(f"gpus must list distinct GPUs, got {gpus}.")
    return {
        f"gpu-{gpu}": {
            "cls": Nanny,
            "options": {
                "nthreads": threads,
                "env": {"CUDA_VISIBLE_DEVICES": gpu, "OMP_NUM_THREADS": str(threads)},
            },
        }
        for gpu in gpus
    }
