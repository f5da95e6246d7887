"""The callbacks every DANN net runs: domain metrics, divergence guard, early stopping, log.

They hook only skorch's documented callback methods; ``DANNNet`` lists them
in ``get_default_callbacks`` (early stopping is added by the estimator).
"""

import copy
import itertools
import re
import sys

import numpy as np
import torch
from skorch.callbacks import Callback, EarlyStopping, PrintLog
from skorch.callbacks.logging import filter_log_keys
from skorch.utils import Ansi

_DIVERGENCE_ADVICE = (
    "Unscaled inputs are the usual cause: scale your inputs (StandardScaler) first; then "
    'try a lower learning_rate_init or adversarial_weight, or solver="adam".'
)


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
        # The parent would deep-copy the weights on the device: copy to the CPU here.
        load_best, self.load_best = self.load_best, False
        try:
            super().on_epoch_end(net, **kwargs)
        finally:
            self.load_best = load_best
        # The parent sets its public best_epoch_ to this epoch when the score improved.
        improved = self.best_epoch_ == net.history[-1, "epoch"]
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
    """skorch's ``PrintLog`` with fixed columns, coloured only on a terminal.

    The columns (and their widths) are those of the first epoch's row; a
    value recorded only at some epochs (the label-shift estimate, recorded at
    the first) leaves its column blank at the others, so every value stays
    under its header. A key first recorded after the first epoch is not
    printed (it is in ``history_``). Outside a terminal (a log file, a
    notebook's captured output, a CI log) no ANSI colour codes are written.
    """

    def initialize(self):
        super().initialize()
        self.columns_ = None
        return self

    def format_row(self, row, key, color):
        text = super().format_row(row, key, color)
        if isinstance(text, str) and not _stdout_is_terminal():
            text = text.replace(color, "").replace(Ansi.ENDC.value, "")
        return text

    def table(self, row):
        """Return the header, the rule and ``row``'s line, with the first epoch's columns."""
        colours = itertools.cycle([c.value for c in Ansi if c != Ansi.ENDC])
        if self.columns_ is None:
            keys = _column_keys(row, self.keys_ignored_)
            cells = [
                str(self.format_row(row, key, c)) for key, c in zip(keys, colours, strict=False)
            ]
            headers = [key.removeprefix("event_") for key in keys]
            widths = [max(len(h), _visible_len(t)) for h, t in zip(headers, cells, strict=True)]
            self.columns_ = list(zip(keys, headers, widths, strict=True))
        else:
            cells = [
                str(self.format_row(row, key, colour)) if key in row else ""
                for (key, _, _), colour in zip(self.columns_, colours, strict=False)
            ]
        header = "  ".join(h.rjust(w) for _, h, w in self.columns_)
        rule = "  ".join("-" * w for _, _, w in self.columns_)
        line = "  ".join(
            " " * (w - _visible_len(text)) + text
            for (_, _, w), text in zip(self.columns_, cells, strict=True)
        )
        return "\n".join([header, rule, line])


def _column_keys(row, ignored):
    """skorch's column order: ``epoch``, the other keys sorted, ``event_*``, then ``dur``."""
    keys = [k for k in filter_log_keys(sorted(row), keys_ignored=ignored) if k != "dur"]
    events = [k for k in sorted(row) if k.startswith("event_") and k not in ignored]
    first = ["epoch"] if "epoch" in row and "epoch" not in ignored else []
    last = ["dur"] if "dur" in row and "dur" not in ignored else []
    return [*first, *[k for k in keys if k != "epoch"], *events, *last]


def _visible_len(text):
    return len(_ANSI.sub("", text))


_ANSI = re.compile(r"\x1b\[[0-9;]*m")


def _stdout_is_terminal():
    return hasattr(sys.stdout, "isatty") and sys.stdout.isatty()


def copy_callbacks(callbacks):
    """Deep-copy user callbacks and name the unnamed ones."""
    named = []
    for index, callback in enumerate(copy.deepcopy(callbacks or [])):
        if not isinstance(callback, tuple):
            callback = (f"user_{index}_{type(callback).__name__}", callback)
        named.append(callback)
    return named
