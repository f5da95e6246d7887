"""Training data of several domains, and the training steps cut from it.

Rows live in one tensor on the training device (or one :class:`SparseRows`).
A training step takes ``batch_size`` rows from every domain, and as many
labeled target rows when there are any, cut by indexing: there is no
per-row ``Dataset.__getitem__`` and no collate function, which is where a
plain DataLoader pipeline spends most of its time on small networks.
Reading rows in order for validation and inference is in ``_inference.py``.
"""

import dataclasses
import math
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np
import torch
from sklearn.model_selection import train_test_split

from ._sparse import SparseRows, stack_csr


@dataclass(frozen=True)
class DomainData:
    """Rows of all domains, ready for training or inference; never changed once built.

    Parameters
    ----------
    X : torch.Tensor, SparseRows, ndarray or sparse matrix
        Every row, of every domain (for inference: the rows to predict).
    y : torch.Tensor or None
        Encoded targets of every row: ``int64`` class indices, or
        ``float32`` of shape ``(n, n_outputs)`` for regression. The values
        of unlabeled rows are never read.
    labeled : ndarray of bool or None
        Which rows carry a target; ``None`` when all of them do.
    domain : ndarray of int or None
        Domain of each row: ``0 .. n_source_domains - 1`` for the source
        domains, then the target domains. ``None``: one source domain.
    n_source_domains : int, default=1
        Number of source domains; the domains after them are target domains.
    weight : torch.Tensor or None
        Per-row weight (relative within the source and within the target
        rows), or ``None``.
    weighted_labels : bool, default=False
        Whether ``weight`` also weights the label loss (the user gave
        weights to labeled rows) or only the domain loss.
    rows : ndarray of int or None
        The rows of ``X`` this data stands for (sorted), ``None`` for all:
        a held-out split shares ``X`` instead of copying it.
    csr_steps : bool, default=False
        Hand training steps of sparse rows to the network as a torch CSR
        tensor instead of densifying them (its first layer must take one).
    """

    X: Any
    y: torch.Tensor = None
    labeled: np.ndarray = None
    domain: np.ndarray = None
    n_source_domains: int = 1
    weight: torch.Tensor = None
    weighted_labels: bool = False
    rows: np.ndarray = None
    csr_steps: bool = False

    def __len__(self):
        return self.X.shape[0] if self.rows is None else len(self.rows)

    def row_indices(self):
        """Indices into ``X`` of this data's rows."""
        return np.arange(self.X.shape[0]) if self.rows is None else self.rows

    def _codes(self):
        rows = self.row_indices()
        return np.zeros(len(rows), dtype=np.int64) if self.domain is None else self.domain[rows]

    @property
    def n_domains(self):
        return 1 if self.domain is None else int(self.domain[self.row_indices()].max()) + 1

    @property
    def n_target_domains(self):
        return self.n_domains - self.n_source_domains

    def domain_rows(self):
        """Indices into ``X`` of each domain's rows, domains in order (empty ones skipped)."""
        rows, codes = self.row_indices(), self._codes()
        return [rows[codes == k] for k in range(self.n_domains) if (codes == k).any()]

    def labeled_target_rows(self):
        """Indices into ``X`` of the labeled rows of target domains."""
        rows, codes = self.row_indices(), self._codes()
        labeled = np.ones(len(rows), bool) if self.labeled is None else self.labeled[rows]
        return rows[labeled & (codes >= self.n_source_domains)]

    def source_rows(self):
        """Indices into ``X`` of the rows of source domains."""
        return self.row_indices()[self._codes() < self.n_source_domains]

    def subset(self, rows):
        """The same data restricted to ``rows`` (sorted indices into ``X``)."""
        return dataclasses.replace(self, rows=np.asarray(rows))

    def source_only(self):
        """Only the source rows, as one labeled domain (validation of early stopping)."""
        return DomainData(self.X, self.y, rows=self.source_rows())


class Step(NamedTuple):
    """What a training step needs besides its input rows.

    The input rows of a step are one tensor: ``n_per_domain`` rows of each
    source domain, of each target domain (the *domain rows*, the first
    ``n_domain_rows``), then the labeled target rows drawn for the label
    loss, if any.
    """

    y: torch.Tensor  # targets of the label rows, source rows first
    label_rows: Any  # slice or index tensor: the rows of the step in the label loss
    n_source: int  # domain rows of source domains (the first rows)
    n_domain_rows: int
    n_per_domain: int
    n_source_domains: int
    n_domains: int
    label_weight: torch.Tensor = None
    domain_weight: torch.Tensor = None

    @property
    def has_target(self):
        """Whether the step holds target rows (and so an adaptation loss)."""
        return self.n_domains > self.n_source_domains

    @property
    def n_labeled(self):
        return len(self.y)

    @property
    def source_y(self):
        """Targets of the source domain rows (the first ``n_source``)."""
        return self.y[: self.n_source]


class BalancedDomainBatches:
    """One epoch of training steps, each taking ``batch_size`` rows from every domain.

    One epoch is ``ceil(n / batch_size)`` steps, ``n`` the size of the
    largest domain: one pass over it in random order. Every domain cycles
    through fresh permutations, so the last step is topped up from the next
    permutation and is never short (a BatchNorm layer never sees a
    one-row batch). Labeled target rows, if any, are one more group drawn
    the same way, after the domains; they enter the label loss only. Each
    item is ``(X_step, Step)``.

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
        device = _device_of(data.X)
        self.groups = [torch.as_tensor(rows, device=device) for rows in data.domain_rows()]
        self.n_source_groups = min(data.n_source_domains, len(self.groups))
        labeled_target = data.labeled_target_rows()
        self.labeled_target = (
            torch.as_tensor(labeled_target, device=device) if len(labeled_target) else None
        )
        self.n_rows = max(len(rows) for rows in self.groups)

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def _cycled_permutation(self, n):
        """Indices covering every step's draws from ``range(n)``."""
        n_draws = len(self) * self.batch_size
        repeats = math.ceil(n_draws / n)
        perms = [torch.randperm(n, generator=self.generator) for _ in range(repeats)]
        return torch.cat(perms)[:n_draws]

    def __iter__(self):
        for idx, step in self.indexed_steps():
            yield self.rows(idx), step

    def indexed_steps(self):
        """One epoch of ``(idx, Step)``: the step's rows as indices into ``data.X``."""
        groups = list(self.groups)
        if self.labeled_target is not None:
            groups.append(self.labeled_target)
        orders = [rows[self._cycled_permutation(len(rows)).to(rows.device)] for rows in groups]
        for start in range(0, len(self) * self.batch_size, self.batch_size):
            steps = [order[start : start + self.batch_size] for order in orders]
            idx = steps[0] if len(steps) == 1 else torch.cat(steps)
            yield idx, self._step(steps, idx)

    def rows(self, idx):
        """The step's input, dense or as one CSR tensor."""
        X = self.data.X
        if self.data.csr_steps and isinstance(X, SparseRows):
            return stack_csr([X.gather(idx)], X.shape[1], X.device)
        return X[idx]

    def _step(self, steps, idx):
        data = self.data
        n_groups = len(self.groups)
        n_per = len(steps[0])
        n_source = n_per * self.n_source_groups
        n_domain_rows = n_per * n_groups
        if self.labeled_target is None:
            label_rows = slice(0, n_source)
            label_idx = idx[:n_source]
        else:
            label_rows = _label_positions(n_source, n_domain_rows, len(steps[-1]), idx.device)
            label_idx = torch.cat([idx[:n_source], steps[-1]])
        weight = data.weight
        domain_idx = idx[:n_domain_rows]
        return Step(
            data.y[label_idx],
            label_rows,
            n_source,
            n_domain_rows,
            n_per,
            self.n_source_groups,
            n_groups,
            weight[label_idx] if weight is not None and data.weighted_labels else None,
            weight[domain_idx] if weight is not None and n_groups > self.n_source_groups else None,
        )


def _label_positions(n_source, n_domain_rows, n_extra, device):
    source = torch.arange(n_source, device=device)
    extra = torch.arange(n_domain_rows, n_domain_rows + n_extra, device=device)
    return torch.cat([source, extra])


class SourceHoldout:
    """skorch ``train_split``: hold out a share of the source rows for early stopping.

    The split is stratified on ``stratify`` (host labels of the source
    rows: classes, and domains with several sources), so no labels are read
    back from the device. Target rows, labeled or not, all stay in the
    training part. Both parts share the training rows' tensor.

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
        source = dataset.source_rows()
        try:
            _, valid = train_test_split(
                source, test_size=self.fraction, random_state=self.seed, stratify=self.stratify
            )
        except ValueError:
            # A class too small to stratify: fall back to a plain random split.
            _, valid = train_test_split(source, test_size=self.fraction, random_state=self.seed)
        valid = np.sort(valid)
        keep = np.setdiff1d(dataset.row_indices(), valid, assume_unique=True)
        return dataset.subset(keep), dataset.subset(valid).source_only()


def _device_of(X):
    return X.device if torch.is_tensor(X) or isinstance(X, SparseRows) else torch.device("cpu")


def side_weights(source_weight, target_weight, is_target):
    """Per-row weights over all rows, each side normalised to mean 1 (ones where not given).

    Returns ``None`` when neither side has weights. Computed in float64,
    scaled by the largest weight first, so huge weights do not overflow.
    """
    if source_weight is None and target_weight is None:
        return None
    weights = np.ones(len(is_target))
    for side, given in ((~is_target, source_weight), (is_target, target_weight)):
        if given is not None and side.any():
            given = np.asarray(given, dtype=np.float64)
            given = given / given.max() if given.max() > 0 else given
            weights[side] = given / given.mean()
    return weights


def to_tensor(X, device):
    """``X`` on ``device``: a float32 tensor, or :class:`SparseRows` for a sparse matrix."""
    if hasattr(X, "toarray"):
        return SparseRows(X, device)
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not X.flags.writeable:
        X = X.copy()
    return torch.from_numpy(X).to(device)


def domain_data(rows, y_encoded, source_weight, target_weight, device):
    """Return the :class:`DomainData` of a fit's rows (see ``_fit_rows.fit_rows``) on ``device``.

    ``y_encoded`` holds the labeled rows' encoded targets; the unlabeled rows get
    zeros (masked by ``labeled``). The weights are those of the source and of the
    target rows, either ``None``.
    """
    is_target = rows.is_target
    y_all = np.zeros((len(is_target), *y_encoded.shape[1:]), dtype=y_encoded.dtype)
    y_all[rows.labeled] = y_encoded
    weight = side_weights(source_weight, target_weight, is_target)
    weight = None if weight is None else torch.tensor(weight, dtype=torch.float32).to(device)
    return DomainData(
        to_tensor(rows.X, device),
        torch.as_tensor(y_all, device=device),
        None if rows.labeled.all() else rows.labeled,
        rows.domain,
        rows.n_source_domains,
        weight,
        weighted_labels=source_weight is not None
        or (target_weight is not None and not rows.labeled[is_target].all()),
    )
