"""The skorch net that trains a :class:`~skdann.DANNModule`.

The net is extended only through skorch's documented hooks:
``get_default_callbacks``, ``get_dataset``, ``get_iterator``, ``get_loss``,
``train_step_single``, ``run_single_epoch`` and callbacks. Its default
callbacks are complete: the schedules, the domain metrics, the divergence
guard and ``PrintLog`` are configured with skorch's
``callbacks__<name>__<param>`` arguments.
"""

import copy
import sys

import numpy as np
import torch
import torch.nn.functional as F
from skorch import NeuralNet
from skorch.callbacks import Callback, EarlyStopping, EpochTimer, PassthroughScoring, PrintLog
from skorch.utils import Ansi
from torch import nn

from ._batches import PREDICT_BATCH_SIZE, BalancedDomainBatches, DomainData, SequentialBatches
from ._module import accepts_csr
from .schedules import StepSchedule

_DIVERGENCE_ADVICE = (
    "Unscaled inputs are the usual cause: scale your inputs (StandardScaler) first; then "
    'try a lower learning_rate_init or adversarial_weight, or solver="adam".'
)


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


class DomainMetrics(Callback):
    """Record per-epoch label loss, domain loss and domain accuracy.

    The training step returns its terms as detached tensors. On a GPU this
    callback keeps them on the device and reduces them once per epoch, so
    the GPU is not synchronised for them on every step. On the CPU it reads
    them as Python floats at once: keeping thousands of small tensors alive
    through an epoch scatters long-lived blocks among the freed batch
    buffers, and the C allocator then grows the heap with the number of
    steps (measured: +380 MiB over one epoch of 600k rows).
    """

    def initialize(self):
        self._reset()
        return self

    def _reset(self):
        self.steps_ = []

    def on_epoch_begin(self, net, **kwargs):
        self._reset()

    def on_batch_end(self, net, batch=None, training=None, **step):
        if not training:
            return
        terms = (step["label_loss"], step["domain_loss"], step["domain_correct"])
        if not terms[0].is_cuda:
            terms = tuple(t.item() for t in terms)
        self.steps_.append((*terms, step["n_source"], step["n_domain"]))

    def on_epoch_end(self, net, **kwargs):
        if not self.steps_:
            return
        label_losses, domain_losses, corrects, n_source, n_domain = zip(*self.steps_, strict=True)
        if torch.is_tensor(label_losses[0]):
            values = torch.stack(
                [torch.stack(label_losses), torch.stack(domain_losses), torch.stack(corrects)]
            ).to("cpu", torch.float64)
        else:
            values = torch.tensor([label_losses, domain_losses, corrects], dtype=torch.float64)
        label, domain, correct = values.unbind()
        n_source = torch.tensor(n_source, dtype=torch.float64)
        n_domain = torch.tensor(n_domain, dtype=torch.float64)
        net.history.record("train_label_loss", float(label @ n_source / n_source.sum()))
        total_domain = float(n_domain.sum())
        if total_domain > 0:
            net.history.record("train_domain_loss", float(domain @ n_domain) / total_domain)
            net.history.record("train_domain_accuracy", float(correct.sum()) / total_domain)
        else:
            net.history.record("train_domain_loss", float("nan"))
            net.history.record("train_domain_accuracy", float("nan"))
        self._reset()


class DivergenceGuard(Callback):
    """Stop training with a clear error when the loss or the weights stop being finite.

    The loss is checked at the end of every epoch, the weights at the end of
    training: a step that diverges last leaves a finite epoch loss but NaN
    weights, which would predict NaN probabilities.
    """

    def on_epoch_end(self, net, **kwargs):
        loss = net.history[-1, "train_loss"]
        if not np.isfinite(loss):
            epoch = net.history[-1, "epoch"]
            raise FloatingPointError(
                f"Training diverged at epoch {epoch}: the loss became {loss}. {_DIVERGENCE_ADVICE}"
            )

    def on_train_end(self, net, **kwargs):
        for name, parameter in net.module_.named_parameters():
            if not torch.isfinite(parameter).all():
                raise FloatingPointError(
                    f"Training diverged in its last steps: the weights of {name} are no "
                    f"longer finite. {_DIVERGENCE_ADVICE}"
                )


class BestWeightsEarlyStopping(EarlyStopping):
    """skorch's ``EarlyStopping`` that keeps the best weights on the CPU.

    The best epoch's weights are always restored at the end of training
    and recorded as ``best_epoch`` in the last history row; the copy is
    dropped afterwards, so a fitted net holds no extra weights and pickles
    without device tensors.
    """

    def on_epoch_end(self, net, **kwargs):
        improved = self._is_score_improved(net.history[-1, self.monitor])
        # The parent would deep-copy the weights on the device: copy to the CPU here.
        load_best, self.load_best = self.load_best, False
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            self.load_best = load_best
        if improved and load_best:
            self.best_model_weights_ = {
                k: v.detach().to("cpu", copy=True) for k, v in net.module_.state_dict().items()
            }

    def on_train_end(self, net, **kwargs):
        if self.load_best and self.best_model_weights_ is not None:
            net.module_.load_state_dict(self.best_model_weights_)
            net.history.record("best_epoch", self.best_epoch_)
        self.best_model_weights_ = None


class PlainPrintLog(PrintLog):
    """skorch's ``PrintLog`` that colours the best values only on a terminal.

    Outside a terminal (a log file, a notebook's captured output, a CI log)
    the ANSI colour codes would be written as text.
    """

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not _stdout_is_terminal():
            text = text.replace(color, "").replace(Ansi.ENDC.value, "")
        return text


def _stdout_is_terminal():
    return hasattr(sys.stdout, "isatty") and sys.stdout.isatty()


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


def copy_callbacks(callbacks):
    """Deep-copy user callbacks and name the unnamed ones."""
    named = []
    for index, callback in enumerate(copy.deepcopy(callbacks or [])):
        if not isinstance(callback, tuple):
            callback = (f"user_{index}_{type(callback).__name__}", callback)
        named.append(callback)
    return named
