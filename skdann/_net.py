"""The skorch net that trains a :class:`~skdann._module.DANNModule`.

Training data lives in tensors on the training device. Each step takes
``batch_size`` source rows and ``batch_size`` target rows, cut from those
tensors by indexing: there is no per-row ``Dataset.__getitem__`` and no
collate function, which is where a plain skorch/DataLoader pipeline spends
most of its time on small networks.

The net is extended only through skorch's documented hooks:
``get_dataset``, ``get_iterator``, ``train_step_single``,
``get_default_callbacks`` and callbacks.
"""

import functools
import math
from dataclasses import dataclass

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring
from skorch.utils import to_tensor

_PREDICT_BATCH_SIZE = 4096


@dataclass
class DomainData:
    """Training tensors of both domains.

    Parameters
    ----------
    X_source : torch.Tensor
        Source rows.
    y_source : torch.Tensor or None
        Encoded source labels (``int64``), or ``None`` for inference.
    X_target : torch.Tensor or None
        Unlabeled target rows, or ``None``.
    """

    X_source: torch.Tensor
    y_source: torch.Tensor = None
    X_target: torch.Tensor = None

    def __len__(self):
        return len(self.X_source)


class PairedBatches:
    """Iterate over one epoch of paired (source, target) batches.

    One epoch is one pass over the larger domain in random order; the
    smaller domain cycles through fresh permutations. Each batch is
    ``((X_source_batch, X_target_batch), y_source_batch)`` with the same
    number of rows from each domain, or ``(X_source_batch, y_source_batch)``
    when there is no target data.

    Parameters
    ----------
    data : DomainData
        Tensors to draw from.
    batch_size : int
        Rows per domain in each batch.
    generator : torch.Generator
        CPU generator for the permutations, seeded for reproducibility.
    """

    def __init__(self, data, batch_size, generator):
        self.data = data
        self.batch_size = batch_size
        self.generator = generator
        n_target = 0 if data.X_target is None else len(data.X_target)
        self.n_rows = max(len(data.X_source), n_target)

    def __len__(self):
        return math.ceil(self.n_rows / self.batch_size)

    def _cycled_permutation(self, n):
        """Indices covering ``self.n_rows`` draws from ``range(n)``."""
        repeats = math.ceil(self.n_rows / n)
        perms = [torch.randperm(n, generator=self.generator) for _ in range(repeats)]
        return torch.cat(perms)[: self.n_rows]

    def __iter__(self):
        data = self.data
        device = data.X_source.device
        source_idx = self._cycled_permutation(len(data.X_source)).to(device)
        target_idx = None
        if data.X_target is not None:
            target_idx = self._cycled_permutation(len(data.X_target)).to(device)
        for start in range(0, self.n_rows, self.batch_size):
            idx = source_idx[start : start + self.batch_size]
            X_source, y_source = data.X_source[idx], data.y_source[idx]
            if target_idx is None:
                yield X_source, y_source
            else:
                X_target = data.X_target[target_idx[start : start + self.batch_size]]
                yield (X_source, X_target), y_source


class SequentialBatches:
    """Iterate over the source rows in order, for validation and inference.

    Parameters
    ----------
    data : DomainData
        Tensors to read; only ``X_source`` and ``y_source`` are used.
    batch_size : int
        Rows per batch.
    """

    def __init__(self, data, batch_size):
        self.data = data
        self.batch_size = batch_size

    def __len__(self):
        return math.ceil(len(self.data.X_source) / self.batch_size)

    def __iter__(self):
        X, y = self.data.X_source, self.data.y_source
        for start in range(0, len(X), self.batch_size):
            stop = start + self.batch_size
            yield X[start:stop], None if y is None else y[start:stop]


class DomainMetrics(Callback):
    """Record per-epoch label loss, domain loss and domain accuracy.

    The training step returns its terms as detached tensors; this callback
    sums them on the device and reads them back once per epoch, so a GPU
    is not synchronised for them on every step.
    """

    def initialize(self):
        self._reset()
        return self

    def _reset(self):
        self.sums_ = None
        self.n_source_ = 0
        self.n_domain_ = 0

    def on_epoch_begin(self, net, **kwargs):
        self._reset()

    def on_batch_end(self, net, batch=None, training=None, **step):
        if not training:
            return
        terms = (
            step["label_loss"] * step["n_source"],
            step["domain_loss"] * step["n_domain"],
            step["domain_correct"],
        )
        if not terms[0].is_cuda:
            # Reading a CPU scalar is cheaper than more tensor arithmetic.
            terms = torch.tensor([t.item() for t in terms], dtype=torch.float64)
        else:
            terms = torch.stack(terms)
        self.sums_ = terms if self.sums_ is None else self.sums_ + terms
        self.n_source_ += step["n_source"]
        self.n_domain_ += step["n_domain"]

    def on_epoch_end(self, net, **kwargs):
        if self.sums_ is None:
            return
        label, domain, correct = self.sums_.tolist()
        net.history.record("train_label_loss", label / self.n_source_)
        if self.n_domain_ > 0:
            net.history.record("train_domain_loss", domain / self.n_domain_)
            net.history.record("train_domain_accuracy", correct / self.n_domain_)
        else:
            net.history.record("train_domain_loss", float("nan"))
            net.history.record("train_domain_accuracy", float("nan"))
        self._reset()


class DivergenceGuard(Callback):
    """Stop training with a clear error when the loss becomes NaN or infinite."""

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not np.isfinite(loss):
            epoch = net.history[-1, "epoch"]
            raise FloatingPointError(
                f"Training diverged at epoch {epoch}: the loss became {loss}. "
                "Try a lower learning_rate_init or adversarial_weight."
            )


class SourceEarlyStopping(Callback):
    """Stop when the held-out source loss stops improving; restore the best weights.

    Parameters
    ----------
    patience : int
        Epochs without an improvement of more than ``tol`` before stopping.
    tol : float
        Minimal decrease of ``valid_loss`` counted as an improvement.

    Notes
    -----
    The best weights are kept on the CPU and dropped after training, so a
    fitted net holds no extra copy and pickles without device tensors.
    """

    def __init__(self, patience, tol):
        self.patience = patience
        self.tol = tol

    def initialize(self):
        self.best_loss_ = np.inf
        self.best_epoch_ = 0
        self.best_state_ = None
        self.misses_ = 0
        return self

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "valid_loss"]
        if loss < self.best_loss_ - self.tol:
            self.best_loss_ = loss
            self.best_epoch_ = net.history[-1, "epoch"]
            self.best_state_ = {
                k: v.detach().to("cpu", copy=True) for k, v in net.module_.state_dict().items()
            }
            self.misses_ = 0
        else:
            self.misses_ += 1
        if self.misses_ >= self.patience:
            # skorch ends the fit loop cleanly on KeyboardInterrupt.
            raise KeyboardInterrupt

    def on_train_end(self, net, **kwargs):
        if self.best_state_ is not None:
            net.module_.load_state_dict(self.best_state_)
            net.history.record("best_epoch", self.best_epoch_)
        self.best_state_ = None


class DANNNet(NeuralNet):
    """skorch net running the DANN objective of Ganin & Lempitsky (eq. 9).

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`. ``batch_size`` is the number of
        rows taken from each domain per step.
    batch_seed : int
        Seed of the generator that shuffles the rows.
    """

    def __init__(self, *args, batch_seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.batch_seed = batch_seed

    def get_default_callbacks(self):
        # PrintLog is added last by the estimator, after the callbacks that
        # record the DANN metrics, so that it prints them.
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
        ]

    def get_dataset(self, X, y=None):
        if isinstance(X, DomainData):
            return X
        X = to_tensor(X, device=self.device)
        if y is not None:
            y = to_tensor(y, device=self.device)
        return DomainData(X, y)

    def get_iterator(self, dataset, training=False):
        if training:
            generator = torch.Generator().manual_seed(self.batch_seed)
            return PairedBatches(dataset, self.batch_size, generator)
        return SequentialBatches(dataset, max(self.batch_size, _PREDICT_BATCH_SIZE))

    def train_step_single(self, batch, **fit_params):
        if not self.module_.training:  # switching every step costs a module walk
            self._set_training(True)
        (X_source, X_target), y_source = _split_batch(batch)
        class_logits, domain_logits = self.module_.forward_train(X_source, X_target)
        label_loss = self.get_loss(class_logits, y_source, X=X_source, training=True)
        n_source = len(X_source)
        if domain_logits is None:
            loss = label_loss
            domain_loss = torch.zeros((), device=label_loss.device)
            domain_correct = torch.zeros((), device=label_loss.device)
            n_domain = 0
        else:
            domain, sign = _domain_labels(
                n_source, len(X_target), domain_logits.device, domain_logits.dtype
            )
            domain_loss = F.binary_cross_entropy_with_logits(domain_logits, domain)
            loss = label_loss + domain_loss
            # A logit on the right side of 0 is a correct domain guess.
            domain_correct = (domain_logits * sign > 0).sum()
            n_domain = len(domain_logits)
        loss.backward()
        return {
            "loss": loss,
            "y_pred": class_logits,
            "label_loss": label_loss.detach(),
            "domain_loss": domain_loss.detach(),
            "domain_correct": domain_correct.detach(),
            "n_source": n_source,
            "n_domain": n_domain,
        }


@functools.lru_cache(maxsize=16)
def _domain_labels(n_source, n_target, device, dtype):
    """Domain labels (0 source, 1 target) and signs (-1, +1) of a batch, built once."""
    domain = torch.cat([torch.zeros(n_source), torch.ones(n_target)]).to(device, dtype)
    return domain, 2.0 * domain - 1.0


def _split_batch(batch):
    """Return ``((X_source, X_target or None), y_source)`` from a training batch."""
    X, y = batch
    if isinstance(X, tuple):
        return X, y
    return (X, None), y
