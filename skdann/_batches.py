"""Training data of several domains, and the batches cut from it.

Rows live in tensors on the training device. A training step takes
``batch_size`` rows from every domain, cut by indexing: there is no per-row
``Dataset.__getitem__`` and no collate function, which is where a plain
DataLoader pipeline spends most of its time on small networks. Reading rows
in order for validation and inference is in ``_inference.py``.
"""

import functools
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from ._sparse import SparseRows, stack_csr


@dataclass
class DomainData:
    """Rows of all domains, ready for training or inference.

    Parameters
    ----------
    X_source : torch.Tensor, ndarray or sparse matrix
        Labeled source rows (for inference: the rows to predict).
    y_source : torch.Tensor or None
        Encoded source targets: ``int64`` class indices, or ``float32`` of
        shape ``(n_source, n_outputs)`` for regression.
    X_target : torch.Tensor or None
        Unlabeled target rows.
    source_domain, target_domain : ndarray of int or None
        Index of the domain of each source (target) row, ``0 .. k - 1``;
        ``None`` when all source (target) rows form one domain.
    source_weight, target_weight : torch.Tensor or None
        Per-row weights of the source (target) rows, or ``None``.
    class_ratio : torch.Tensor or None
        Per-class factor on the source rows' domain loss (target over source
        class proportion, set during training by
        :class:`~skdann.label_shift.ClassRatioEstimator`), or ``None``.
    csr_steps : bool
        Hand training steps of sparse rows to the network as a torch CSR
        tensor instead of densifying them (its first layer must take one).
    """

    X_source: Any
    y_source: torch.Tensor = None
    X_target: torch.Tensor = None
    source_domain: np.ndarray = None
    target_domain: np.ndarray = None
    source_weight: torch.Tensor = None
    target_weight: torch.Tensor = None
    class_ratio: torch.Tensor = None
    csr_steps: bool = False

    def __len__(self):
        return self.X_source.shape[0]

    @property
    def n_source_domains(self):
        return 1 if self.source_domain is None else int(self.source_domain.max()) + 1

    @property
    def n_target_domains(self):
        if self.X_target is None:
            return 0
        return 1 if self.target_domain is None else int(self.target_domain.max()) + 1

    def source_subset(self, rows):
        """Keep the source rows at ``rows`` (a sorted ``ndarray``), all target rows."""
        device_rows = torch.as_tensor(rows, device=_device_of(self.X_source))
        X_source = self.X_source
        return DomainData(
            X_source.subset(rows) if isinstance(X_source, SparseRows) else X_source[device_rows],
            None if self.y_source is None else self.y_source[device_rows],
            self.X_target,
            None if self.source_domain is None else self.source_domain[rows],
            self.target_domain,
            None if self.source_weight is None else self.source_weight[device_rows],
            self.target_weight,
        )


class StepTargets(NamedTuple):
    """What a training step needs besides its input rows.

    The input rows of a step are one tensor: the rows of each source domain,
    then of each target domain, ``n_per_domain`` rows from each.
    """

    y_source: torch.Tensor
    n_source: int
    domain_labels: Any  # (float labels, signs) for two domains, int64 labels for more, or None
    source_weight: torch.Tensor = None
    domain_weight: torch.Tensor = None
    n_domains: int = 2


class BalancedDomainBatches:
    """One epoch of training steps, each taking ``batch_size`` rows from every domain.

    One epoch is ``ceil(n / batch_size)`` steps, ``n`` the size of the
    largest domain: one pass over it in random order. Every domain cycles
    through fresh permutations, so the last step is topped up from the next
    permutation and is never short (a BatchNorm layer never sees a
    one-row batch). Each item is ``(X_step, StepTargets)``.

    Parameters
    ----------
    data : DomainData
        Rows to draw from.
    batch_size : int
        Rows per domain in each step.
    generator : torch.Generator
        CPU generator for the permutations, seeded for reproducibility.
    """

    def __init__(self, data, batch_size, generator):
        self.data = data
        self.batch_size = batch_size
        self.generator = generator
        device = _device_of(data.X_source)
        self.groups = [("source", rows) for rows in _domain_rows(data.source_domain, device)]
        if data.X_target is not None:
            self.groups += [("target", rows) for rows in _domain_rows(data.target_domain, device)]
        self.n_rows = max(
            len(data.X_source if rows is None else rows)
            if kind == "source"
            else len(data.X_target if rows is None else rows)
            for kind, rows in self.groups
        )

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def _cycled_permutation(self, n):
        """Indices covering every step's draws from ``range(n)``."""
        n_draws = len(self) * self.batch_size
        repeats = math.ceil(n_draws / n)
        perms = [torch.randperm(n, generator=self.generator) for _ in range(repeats)]
        return torch.cat(perms)[:n_draws]

    def __iter__(self):
        data = self.data
        device = _device_of(data.X_source)
        orders = []
        for kind, rows in self.groups:
            X = data.X_source if kind == "source" else data.X_target
            n = len(X) if rows is None else len(rows)
            order = self._cycled_permutation(n).to(device)
            orders.append(order if rows is None else rows[order])
        n_source_groups = sum(kind == "source" for kind, _ in self.groups)
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            steps = [order[start : start + self.batch_size] for order in orders]
            source_idx = steps[0] if n_source_groups == 1 else torch.cat(steps[:n_source_groups])
            target_idx = (
                torch.cat(steps[n_source_groups:]) if len(steps) > n_source_groups else None
            )
            X_step = self._rows(source_idx, target_idx)
            yield X_step, self._targets(source_idx, target_idx, len(steps), len(steps[0]))

    def _rows(self, source_idx, target_idx):
        """The step's input: source rows, then target rows, dense or as one CSR tensor."""
        data = self.data
        if data.csr_steps and isinstance(data.X_source, SparseRows):
            parts = [data.X_source.gather(source_idx)]
            if target_idx is not None:
                parts.append(data.X_target.gather(target_idx))
            return stack_csr(parts, data.X_source.shape[1], data.X_source.device)
        if target_idx is None:
            return data.X_source[source_idx]
        return torch.cat([data.X_source[source_idx], data.X_target[target_idx]])

    def _targets(self, source_idx, target_idx, n_groups, n_per_group):
        data = self.data
        source_weight = None if data.source_weight is None else data.source_weight[source_idx]
        if target_idx is None:
            return StepTargets(data.y_source[source_idx], len(source_idx), None, source_weight)
        domain_weight = None
        if (
            data.source_weight is not None
            or data.target_weight is not None
            or data.class_ratio is not None
        ):
            source_part = _weights_or_ones(data.source_weight, source_idx)
            if data.class_ratio is not None:
                source_part = source_part * data.class_ratio[data.y_source[source_idx]]
            domain_weight = torch.cat(
                [source_part, _weights_or_ones(data.target_weight, target_idx)]
            )
        device = _device_of(data.X_source)
        dtype = data.X_source.dtype if torch.is_tensor(data.X_source) else torch.float32
        return StepTargets(
            data.y_source[source_idx],
            len(source_idx),
            domain_labels(n_groups, n_per_group, len(source_idx), device, dtype),
            source_weight,
            domain_weight,
            n_groups,
        )


class SourceHoldout:
    """skorch ``train_split``: hold out a share of the source rows for early stopping.

    The split is stratified on ``stratify`` (host labels: classes, and
    domains with several sources), so no labels are read back from the
    device. Target rows all stay in the training part.

    Parameters
    ----------
    fraction : float
        Share of source rows held out.
    seed : int
        Seed of the split.
    stratify : ndarray or None
        One label per source row to stratify on, or ``None``.
    """

    def __init__(self, fraction, seed, stratify=None):
        self.fraction = fraction
        self.seed = seed
        self.stratify = stratify

    def __call__(self, dataset, y=None, **fit_params):
        indices = np.arange(len(dataset))
        try:
            train, valid = train_test_split(
                indices, test_size=self.fraction, random_state=self.seed, stratify=self.stratify
            )
        except ValueError:
            # A class too small to stratify: fall back to a plain random split.
            train, valid = train_test_split(
                indices, test_size=self.fraction, random_state=self.seed
            )
        held_out = dataset.source_subset(np.sort(valid))
        return dataset.source_subset(np.sort(train)), DomainData(
            held_out.X_source, held_out.y_source
        )


@functools.lru_cache(maxsize=16)
def domain_labels(n_groups, n_per_group, n_source, device, dtype):
    """Domain labels of a step, built once per layout.

    With two domains: float labels (0 source, 1 target) for a single logit
    and their signs (-1, +1). With more: the ``int64`` index of each row's
    domain, sources first, for a softmax over the domains.
    """
    if n_groups == 2:
        domain = torch.cat([torch.zeros(n_source), torch.ones(n_per_group)]).to(device, dtype)
        return domain, 2.0 * domain - 1.0
    return torch.arange(n_groups, device=device).repeat_interleave(n_per_group)


def _domain_rows(codes, device):
    if codes is None:
        return [None]
    return [torch.as_tensor(np.flatnonzero(codes == k), device=device) for k in np.unique(codes)]


def _weights_or_ones(weights, idx):
    if weights is None:
        return torch.ones(len(idx), device=idx.device)
    return weights[idx]


def _device_of(X):
    return X.device if torch.is_tensor(X) or isinstance(X, SparseRows) else torch.device("cpu")


def weights_tensor(weights, device):
    """Weights normalised to mean 1, as float32 on ``device``.

    Divided by their maximum first, in float64, so that weights near the
    float limits (1e308 everywhere) neither overflow the mean nor vanish.
    """
    if weights is None:
        return None
    weights = np.asarray(weights, dtype=np.float64)
    peak = weights.max()
    if peak > 0:
        weights = weights / peak
    return torch.as_tensor(weights / weights.mean(), dtype=torch.float32, device=device)


def select_rows(X, mask):
    """Rows of ``X`` where ``mask`` is true: a view when they are one block."""
    rows = np.flatnonzero(mask)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return X[rows[0] : rows[-1] + 1]
    return X[rows]


def to_tensor(X, device):
    """``X`` on ``device``: a float32 tensor, or :class:`SparseRows` for a sparse matrix."""
    if hasattr(X, "toarray"):
        return SparseRows(X, device)
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not X.flags.writeable:
        X = X.copy()
    return torch.from_numpy(X).to(device)
