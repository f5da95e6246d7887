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


class TrainingInterrupted(Exception):
    """A ``KeyboardInterrupt`` during training, carried past skorch's handler."""


class DANNNet(NeuralNet):
    """skorch net training a network on a label loss plus an adaptation objective.

    Parameters
    ----------
    *args, **kwargs
        Passed to :class:`skorch.NeuralNet`. ``batch_size`` is the number of
        rows taken from each domain per step.
    objective : skdann.objectives.Objective
        The adaptation objective: its heads are attributes of the module,
        and every training step adds its loss to the label loss.
    batch_seed : int
        Seed of the generator that shuffles the rows.
    """

    def __init__(self, *args, objective=None, batch_seed=0, **kwargs):
        super().__init__(*args, **kwargs)
        self.objective = objective
        self.batch_seed = batch_seed

    def initialize(self):
        self.objective.reset_state()
        return super().initialize()

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

    def fit_loop(self, *args, **kwargs):
        """skorch's training loop, but Ctrl-C stops the caller.

        skorch's ``partial_fit`` swallows ``KeyboardInterrupt`` and returns a
        half-trained net as if it had finished. It is re-raised here as
        :class:`TrainingInterrupted`, which skorch lets through; the estimator
        restores its previous fitted state and raises ``KeyboardInterrupt``.
        """
        try:
            return super().fit_loop(*args, **kwargs)
        except KeyboardInterrupt as exc:
            if _raised_by_a_skorch_callback(exc):
                raise  # skorch's EarlyStopping stops training this way: partial_fit ends it
            raise TrainingInterrupted("training was interrupted (Ctrl-C)") from exc

    def get_dataset(self, X, y=None):
        return X if isinstance(X, DomainData) else DomainData(X)

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

        This overrides a documented hook but reproduces skorch's epoch, so
        it depends on three things skorch does not promise: the private
        list ``self._optimizers`` of the net's optimizer names, that
        ``NeuralNet.on_batch_begin`` does nothing but ``history.new_batch()``
        (the public ``History`` method called here instead), and the names
        of the batch entries (``{prefix}_loss``, ``{prefix}_batch_size``,
        ``{prefix}_batch_count``). ``tests/test_scale.py`` checks that this
        loop and skorch's train the same model with the same history; CI
        runs it against the oldest skorch ``pyproject.toml`` accepts
        (``.ci/floors``) and the newest (the main test run).
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
        """One step: the label loss on the labeled rows plus the objective's loss."""
        if not self.module_.training:  # switching every step costs a module walk
            self.module_.train()
        X, step = batch
        features = self.module_.feature_extractor(X)
        label_output = self.module_.label_head(features[step.label_rows])
        label_loss = self.get_loss(
            label_output, step.y, training=True, sample_weight=step.label_weight
        )
        terms = None
        if step.has_target:
            terms = self.objective.adaptation_loss(self.module_, features, step)
        if terms is None:
            loss = label_loss
            zero = torch.zeros((), device=label_loss.device)
            domain_loss = domain_correct = zero
            n_domain = 0
        else:
            loss = label_loss + terms.loss
            domain_loss, domain_correct, n_domain = terms[1:]
        loss.backward()
        return {
            "loss": loss,
            "y_pred": label_output,
            "label_loss": label_loss.detach(),
            "domain_loss": domain_loss.detach(),
            "domain_correct": domain_correct.detach(),
            "n_source": step.n_labeled,
            "n_domain": n_domain,
        }


def _raised_by_a_skorch_callback(exc):
    """Whether ``exc`` was raised inside ``skorch.callbacks`` (early stopping), not by Ctrl-C."""
    frame = exc.__traceback__
    while frame.tb_next is not None:
        frame = frame.tb_next
    parts = frame.tb_frame.f_code.co_filename.replace("\\", "/").split("/")
    return "skorch" in parts and "callbacks" in parts


def release_init_module(net):
    """Drop the module the net was built from; the trained one is ``net.module_``.

    They are the same object, but skorch maps only ``module_`` (not
    ``module``) to the CPU when unpickling, so a net fitted on a GPU would
    not load without one. Fitted and loaded nets both go through this.
    """
    net.module = None
    return net


# Callbacks the fast epoch loop may call directly, and optimizers it may step
# without a closure.
_OWN_STEP_CALLBACKS = (StepSchedule, DomainMetrics)
_DIRECT_STEP_OPTIMIZERS = (torch.optim.SGD, torch.optim.Adam, torch.optim.AdamW)
