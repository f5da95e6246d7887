"""Cross-validation splitters that keep every domain in every fold, search workers, and
the batched grid search."""

import warnings

import numpy as np
from sklearn.model_selection import BaseCrossValidator, StratifiedKFold
from sklearn.utils.multiclass import type_of_target

from ._batched_search import BatchedGridSearchCV
from ._domains import target_mask

__all__ = ["BatchedGridSearchCV", "DomainStratifiedKFold", "one_gpu_per_worker"]


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
    in a float ``y`` that holds NaN (a regressor's marker). Continuous ``y``
    (regression targets) is stratified by domain only, never by value.

    Every domain needs at least ``n_splits`` rows (else some validation
    folds would have none of it, and a label-free scorer could not score
    them): fewer is an error. A class with fewer source rows than
    ``n_splits`` in a domain gives a warning naming it.

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
        strata, domain_key = self._strata(
            y, sample_domain if sample_domain is not None else groups
        )
        self._check_counts(strata, domain_key)
        stratified = StratifiedKFold(
            self.n_splits, shuffle=self.shuffle, random_state=self.random_state
        )
        with warnings.catch_warnings():  # _check_counts warned in skdann's words
            warnings.filterwarnings("ignore", "The least populated class", UserWarning)
            folds = list(stratified.split(np.zeros(len(strata)), strata))
        yield from folds

    def _check_counts(self, strata, domain_key):
        domains, counts = np.unique(domain_key, return_counts=True)
        for domain, count in zip(domains, counts, strict=True):
            if count < self.n_splits:
                name = f"{domain} rows" if domain in ("source", "target") else f"domain {domain}"
                raise ValueError(
                    f"DomainStratifiedKFold(n_splits={self.n_splits}) puts rows of every domain "
                    f"in every validation fold, but there are only {count} {name}; use "
                    f"n_splits <= {count}, or more rows."
                )
        values, counts = np.unique(strata, return_counts=True)
        small = [(v, c) for v, c in zip(values, counts, strict=True) if c < self.n_splits]
        if small and not np.array_equal(strata, domain_key):
            listed = ", ".join(f"{_stratum_name(v)}: {c} rows" for v, c in small[:5])
            warnings.warn(
                f"Some classes have fewer source rows in a domain than n_splits="
                f"{self.n_splits} ({listed}); their rows cannot be spread over every fold.",
                UserWarning,
                stacklevel=3,
            )

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
        labeled = y[~is_target]
        if regression or y.ndim > 1 or (len(labeled) and _is_continuous(labeled)):
            return domain_key, domain_key
        class_key = np.where(is_target, "", y.astype(str))
        return np.char.add(np.char.add(domain_key, "|"), class_key), domain_key


def _stratum_name(stratum):
    domain, _, label = stratum.partition("|")
    domain = domain if domain in ("source", "target") else f"domain {domain}"
    return f"class {label} of {domain}"


def _is_continuous(labels):
    try:
        return type_of_target(labels) == "continuous"
    except ValueError:
        return False


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
