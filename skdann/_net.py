"""The skorch net that trains a :class:`~skdann.DANNModule`.

The net is extended only through skorch's documented hooks:
``get_default_callbacks``, ``get_dataset``, ``get_iterator``, ``get_loss``,
``train_step_single``, ``run_single_epoch`` and callbacks. Its default
callbacks are complete: the schedules, the domain metrics, the divergence
guard and ``PrintLog`` are configured with skorch's
``callbacks__<name>__<param>`` arguments.
"""

import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback, EpochTimer, PassthroughScoring
from torch import nn

from ._batches import BalancedDomainBatches, DomainData
from ._callbacks import DivergenceGuard, DomainMetrics, PlainPrintLog
from ._inference import PREDICT_BATCH_SIZE, SequentialBatches
from ._module import accepts_csr
from .schedules import StepSchedule


class LabelLoss(nn.Module):
    """Label criterion: mean loss over rows, or weighted mean with row weights.

    Parameters
    ----------
    loss : {"cross_entropy", "squared_error", "huber"}, default="cross_entropy"
        Cross-entropy on class logits, or a regression loss on (standardised)
        targets of shape ``(n, n_outputs)``.
    huber_delta : float, default=1.0
        Threshold of the Huber loss.
    """

    def __init__(self, loss="cross_entropy", huber_delta=1.0):
        super().__init__()
        self.loss = loss
        self.huber_delta = huber_delta

    def forward(self, y_pred, y_true, sample_weight=None):
        reduction = "mean" if sample_weight is None else "none"
        if self.loss == "cross_entropy":
            losses = F.cross_entropy(y_pred, y_true, reduction=reduction)
        elif self.loss == "squared_error":
            losses = F.mse_loss(y_pred, y_true, reduction=reduction)
        else:
            losses = F.huber_loss(y_pred, y_true, reduction=reduction, delta=self.huber_delta)
        if sample_weight is None:
            return losses
        if losses.ndim > 1:
            losses = losses.mean(dim=1)
        return (losses * sample_weight).mean()


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
        # skorch runs PrintLog last, after every callback that records.
        return [
            ("epoch_timer", EpochTimer()),
            ("train_loss", PassthroughScoring(name="train_loss", on_train=True)),
            ("valid_loss", PassthroughScoring(name="valid_loss")),
            ("schedule", StepSchedule()),
            ("domain_metrics", DomainMetrics()),
            ("divergence_guard", DivergenceGuard()),
            ("print_log", PlainPrintLog()),
        ]

    def get_dataset(self, X, y=None):
        if isinstance(X, DomainData):
            return X
        if y is not None:
            y = torch.as_tensor(y, device=self.device)
        return DomainData(X, y)

    def get_iterator(self, dataset, training=False):
        if training:
            generator = torch.Generator().manual_seed(self.batch_seed)
            return BalancedDomainBatches(dataset, self.batch_size, generator)
        csr = getattr(self, "initialized_", False) and accepts_csr(self.module_)
        return SequentialBatches(
            dataset, max(self.batch_size, PREDICT_BATCH_SIZE), device=self.device, csr=csr
        )

    def get_loss(self, y_pred, y_true, X=None, training=False, sample_weight=None):
        return self.criterion_(y_pred, y_true, sample_weight)

    def get_domain_loss(self, domain_logits, domain_labels, sample_weight=None, n_domains=2):
        """Domain criterion; returns the loss and the number of correct domain guesses.

        Two domains: one logit, binary cross-entropy. More: with one logit
        per domain, a softmax (cross-entropy); with one logit per source
        domain and a single target domain, one binary cross-entropy per
        source, each on that source's rows and the target rows.
        """
        if isinstance(domain_labels, tuple):
            labels, signs = domain_labels
            if sample_weight is None:
                loss = F.binary_cross_entropy_with_logits(domain_logits, labels)
            else:
                loss = F.binary_cross_entropy_with_logits(
                    domain_logits, labels, weight=sample_weight
                )
            # A logit on the right side of 0 is a correct domain guess.
            return loss, (domain_logits * signs > 0).sum()
        if domain_logits.shape[1] == n_domains - 1:  # one binary head per source
            return _per_source_domain_loss(domain_logits, domain_labels, sample_weight)
        losses = F.cross_entropy(domain_logits, domain_labels, reduction="none")
        loss = losses.mean() if sample_weight is None else (losses * sample_weight).mean()
        return loss, (domain_logits.argmax(dim=1) == domain_labels).sum()

    def run_single_epoch(self, iterator, training, prefix, step_fn, **fit_params):
        """Run one epoch; a training epoch skips skorch's per-step bookkeeping when it can.

        skorch's loop dispatches every per-step hook to every callback,
        passes the optimizer a closure and reads each step's loss back with
        ``.item()`` (a device synchronisation on a GPU). When every per-step
        listener is one of skdann's own callbacks, the optimizers are plain
        first-order ones and ``train_step`` is not overridden, this loop
        calls only those listeners, steps the optimizers directly and writes
        the steps' losses and sizes to the history at the end of the epoch
        (on a GPU with one read-back for the epoch). The history is the
        same as skorch's. With any other per-step callback (a progress bar,
        gradient clipping, a user's own), skorch's loop runs unchanged.
        """
        listeners = self._own_step_listeners() if training else None
        if (
            iterator is None
            or listeners is None
            or getattr(step_fn, "__func__", None) is not DANNNet.train_step
        ):
            return super().run_single_epoch(iterator, training, prefix, step_fn, **fit_params)
        on_begin, on_end = listeners
        optimizers = [getattr(self, name + "_") for name in self._optimizers]
        losses, sizes = [], []
        for batch in iterator:
            for callback in on_begin:
                callback.on_batch_begin(self, batch=batch, training=True)
            for optimizer in optimizers:
                optimizer.zero_grad()
            step = self.train_step_single(batch, **fit_params)
            for optimizer in optimizers:
                optimizer.step()
            # A float on the CPU (no small tensor kept alive: see DomainMetrics), a
            # tensor on a GPU (no synchronisation per step).
            loss = step["loss"].detach()
            losses.append(loss if loss.is_cuda else loss.item())
            sizes.append(len(batch[0]))
            for callback in on_end:
                callback.on_batch_end(self, batch=batch, training=True, **step)
        values = torch.stack(losses).tolist() if losses and torch.is_tensor(losses[0]) else losses
        for loss, size in zip(values, sizes, strict=True):
            self.history.new_batch()  # what NeuralNet.on_batch_begin does
            self.history.record_batch(prefix + "_loss", loss)
            self.history.record_batch(prefix + "_batch_size", size)
        self.history.record(prefix + "_batch_count", len(sizes))

    def _own_step_listeners(self):
        """``(on_batch_begin, on_batch_end)`` callbacks, or ``None`` if the fast loop can't run."""
        hooks = ("on_batch_begin", "on_batch_end", "on_grad_computed")
        if any(getattr(type(self), hook) is not getattr(NeuralNet, hook) for hook in hooks):
            return None
        if not all(
            type(getattr(self, name + "_")) in _DIRECT_STEP_OPTIMIZERS for name in self._optimizers
        ):
            return None
        on_begin, on_end = [], []
        for _, callback in self.callbacks_:
            listens = [h for h in hooks if getattr(type(callback), h) is not getattr(Callback, h)]
            if not listens:
                continue
            if type(callback) not in _OWN_STEP_CALLBACKS or "on_grad_computed" in listens:
                return None
            if "on_batch_begin" in listens:
                on_begin.append(callback)
            if "on_batch_end" in listens:
                on_end.append(callback)
        return on_begin, on_end

    def train_step_single(self, batch, **fit_params):
        if not self.module_.training:  # switching every step costs a module walk
            self.module_.train()
        X, targets = batch
        class_logits, domain_logits = self.module_.forward_train(X, targets.n_source)
        label_loss = self.get_loss(
            class_logits, targets.y_source, training=True, sample_weight=targets.source_weight
        )
        if domain_logits is None:
            loss = label_loss
            domain_loss = torch.zeros((), device=label_loss.device)
            domain_correct = torch.zeros((), device=label_loss.device)
            n_domain = 0
        else:
            domain_loss, domain_correct = self.get_domain_loss(
                domain_logits, targets.domain_labels, targets.domain_weight, targets.n_domains
            )
            loss = label_loss + domain_loss
            n_domain = len(domain_logits)
        loss.backward()
        return {
            "loss": loss,
            "y_pred": class_logits,
            "label_loss": label_loss.detach(),
            "domain_loss": domain_loss.detach(),
            "domain_correct": domain_correct.detach(),
            "n_source": targets.n_source,
            "n_domain": n_domain,
        }


# Callbacks the fast epoch loop may call directly, and optimizers it may step
# without a closure.
_OWN_STEP_CALLBACKS = (StepSchedule, DomainMetrics)
_DIRECT_STEP_OPTIMIZERS = (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW)


def _per_source_domain_loss(domain_logits, domain_labels, sample_weight):
    """Binary losses of "source s or target?" on source s's rows and the target rows."""
    n_sources = domain_logits.shape[1]
    is_target = domain_labels == n_sources
    heads = torch.arange(n_sources, device=domain_logits.device)
    # Row i counts for head s when it is a target row or a row of source s.
    counts = is_target[:, None] | (domain_labels[:, None] == heads[None, :])
    targets = is_target[:, None].expand_as(domain_logits).to(domain_logits.dtype)
    losses = F.binary_cross_entropy_with_logits(domain_logits, targets, reduction="none")
    weights = counts.to(domain_logits.dtype)
    if sample_weight is not None:
        weights = weights * sample_weight[:, None]
    loss = (losses * weights).sum() / counts.sum()
    correct = ((domain_logits > 0) == is_target[:, None]) & counts
    per_row = correct.sum(dim=1).to(domain_logits.dtype) / counts.sum(dim=1)
    return loss, per_row.sum()
