"""Training K DANN estimators of one architecture together, as one stacked network.

Each copy keeps what its own fit would have: its initial weights (built
exactly as the plain fit builds them, from its ``random_state``), its batch
order and early-stopping split (from the same seed), its dropout masks, its
``adversarial_weight``, ``alpha``, ``learning_rate_init``, schedules and
early stopping. The copies advance in lockstep, one stacked step at a time;
a copy that stops early (or diverges) is frozen while the others go on. At
the end each estimator gets an ordinary fitted net holding its copy's
weights and its own history, recorded by the same callbacks a plain fit runs.
"""

import dataclasses
import time
from types import SimpleNamespace

import numpy as np
import torch
from skorch.callbacks import PassthroughScoring
from skorch.history import History

from ._assembly import make_net
from ._batches import BalancedDomainBatches, SourceHoldout
from ._callbacks import BestWeightsEarlyStopping, DivergenceGuard, DomainMetrics
from ._inference import PREDICT_BATCH_SIZE, SequentialBatches
from ._module import accepts_csr
from ._sparse import SparseRows
from ._stacked import StackedNetwork, stacked_reversal
from ._stacked_losses import adaptation_losses, label_losses
from ._stacked_sgd import StackedSGD
from .schedules import ADVERSARIAL_SCHEDULES, LEARNING_RATE_SCHEDULES, resolve_schedule


class CopyNet(SimpleNamespace):
    """What the skorch callbacks a plain fit runs read of a net, for one copy.

    ``history`` is the copy's own, ``module_`` a plain module that holds the
    copy's weights when a callback needs them (see :meth:`StackedTraining.sync`).
    """

    verbose = 0


class StackedTraining:
    """One batched training run; ``run()`` returns per copy a fitted net or an exception.

    Parameters
    ----------
    estimators : list of BaseDANN
        Planned estimators (``plan_fit`` has run on each), of one graph key.
    plan : FitPlan
        The first estimator's plan: the rows, the device.
    seeds, stratify : list of int, ndarray or None
        Each estimator's seed; the labels of the early-stopping split.
    """

    def __init__(self, estimators, plan, seeds, stratify):
        self.estimators = estimators
        self.plan = plan
        self.seeds = seeds
        self.stratify = stratify
        self.first = estimators[0]
        # One label-shift check for every copy (it reads the rows, not the network).
        wanted = [e for e in estimators if e._label_shift_check_wanted(plan)]
        self.label_shift_check = wanted[0]._label_shift_check(plan) if wanted else None

    # -- set-up ---------------------------------------------------------------

    def _build(self, data):
        device = self.plan.device
        cuda = [torch.device(device).index or 0] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda):
            self.modules = [
                est._init_module(self.plan.n_features, seed)
                for est, seed in zip(self.estimators, self.seeds, strict=True)
            ]
        self.csr = accepts_csr(self.modules[0]) and isinstance(data.X, SparseRows)
        if accepts_csr(self.modules[0]):
            data = dataclasses.replace(data, csr_steps=True)
        for est in self.estimators:
            est.objective_.reset_state()
        self.network = StackedNetwork(self.modules).to(device)
        for module in self.modules:
            module.to(device)
        self.optimizer = StackedSGD(
            self.network.parameters(), [e.alpha for e in self.estimators], self.first.momentum
        )
        # One split and one batch order per distinct seed, as each plain fit draws them.
        first = self.first
        self.groups = {}
        for seed in dict.fromkeys(self.seeds):
            train, valid = data, None
            if first.early_stopping:
                holdout = SourceHoldout(first.validation_fraction, seed, self.stratify)
                train, valid = holdout(data)
            batches = BalancedDomainBatches(
                train, first.batch_size, torch.Generator().manual_seed(seed)
            )
            self.groups[seed] = (train, valid, batches)
        lengths = {len(batches) for _, _, batches in self.groups.values()}
        if len(lengths) != 1:
            raise RuntimeError("the copies' epochs differ in length; fit them one by one")
        self.steps_per_epoch = lengths.pop()
        self.data = data
        self.has_target = data.n_domains > data.n_source_domains

    def _make_copies(self):
        K = len(self.estimators)
        self.nets = []
        for k, est in enumerate(self.estimators):
            net = CopyNet(
                history=History(),
                module_=self.modules[k],
                device=self.plan.device,
                objective=SimpleNamespace(class_ratio_=None),
                callbacks={
                    "train_loss": PassthroughScoring(name="train_loss", on_train=True),
                    "valid_loss": PassthroughScoring(name="valid_loss"),
                    "domain_metrics": DomainMetrics(),
                    "divergence_guard": DivergenceGuard(),
                },
            )
            if est.early_stopping:
                net.callbacks["early_stopping"] = BestWeightsEarlyStopping(
                    patience=est.n_iter_no_change,
                    threshold=est.tol,
                    threshold_mode="abs",
                    load_best=True,
                )
            for callback in net.callbacks.values():
                callback.initialize()
                callback.on_train_begin(net)
            self.nets.append(net)
        self.errors = [None] * K
        self.active = np.ones(K, dtype=bool)
        self.total_steps = self.steps_per_epoch * self.first.max_iter
        self.adversarial_factors = [
            resolve_schedule(e.adversarial_schedule, ADVERSARIAL_SCHEDULES)
            for e in self.estimators
        ]
        self.learning_rate_factors = [
            resolve_schedule(e.learning_rate_schedule, LEARNING_RATE_SCHEDULES)
            for e in self.estimators
        ]

    # -- one step -------------------------------------------------------------

    def _inputs(self, drawn):
        """The stacked step's input: shared rows, or each copy's own rows."""
        groups = self.groups
        if len(groups) == 1:
            seed = self.seeds[0]
            return groups[seed][2].rows(drawn[seed][0])
        X = self.data.X
        if self.csr:
            return [X.csr(drawn[seed][0]) for seed in self.seeds]
        if isinstance(X, SparseRows):
            return torch.stack([X[drawn[seed][0]] for seed in self.seeds])
        return X[torch.stack([drawn[seed][0] for seed in self.seeds])]

    def _schedule(self, step):
        p = min(step / max(self.total_steps, 1), 1.0)
        lambdas, rates = [], []
        for k, est in enumerate(self.estimators):
            lambdas.append(est.adversarial_weight * float(self.adversarial_factors[k](p)))
            rate = est.learning_rate_init * float(self.learning_rate_factors[k](p))
            rates.append(rate if self.active[k] else 0.0)
        return lambdas, rates

    def _step(self, drawn, lambdas, rates):
        steps = [drawn[seed][1] for seed in self.seeds]
        x = self._inputs(drawn)
        network = self.network
        features = network.feature_extractor(x)
        label_loss = label_losses(network, features, steps, self.criterion)
        loss = label_loss
        adaptation = None
        if steps[0].has_target:
            objective = self.first.objective_
            adaptation = adaptation_losses(
                objective, network, features, steps, lambdas, stacked_reversal
            )
        if adaptation is not None:
            loss = label_loss + adaptation.loss
        self.optimizer.zero_grad()
        loss.sum().backward()
        self.optimizer.step(rates)
        return loss.detach(), label_loss.detach(), adaptation, steps[0]

    # -- epochs ---------------------------------------------------------------

    def sync(self, k):
        """Copy ``k``'s current weights into its plain module."""
        self.modules[k].load_state_dict(self.network.copy_state(k))

    def _validate(self):
        """Each copy's loss on its held-out source rows, chunk by chunk (as skorch's)."""
        chunk = max(self.first.batch_size, PREDICT_BATCH_SIZE)
        readers = {
            seed: iter(SequentialBatches(valid, chunk, self.plan.device, self.csr))
            for seed, (_, valid, _) in self.groups.items()
        }
        n_chunks = len(SequentialBatches(self.groups[self.seeds[0]][1], chunk))
        records = [[] for _ in self.estimators]
        self.network.eval()
        with torch.no_grad():
            for _ in range(n_chunks):
                read = {seed: next(reader) for seed, reader in readers.items()}
                if len(read) == 1:
                    x = read[self.seeds[0]][0]
                elif self.csr:
                    x = [read[seed][0] for seed in self.seeds]
                else:
                    x = torch.stack([read[seed][0] for seed in self.seeds])
                output = self.network.label_head(self.network.feature_extractor(x))
                criterion = self.criterion
                for k, seed in enumerate(self.seeds):
                    y = read[seed][1]
                    records[k].append((criterion(output[k], y).item(), len(y)))
        self.network.train()
        return records

    def _end_epoch(self, epoch, losses, metrics, valid, started):
        for k, net in enumerate(self.nets):
            if not self.active[k]:
                continue
            history = net.history
            history.new_epoch()
            history.record("epoch", epoch)
            for loss, size in losses[k]:
                history.new_batch()
                history.record_batch("train_loss", loss)
                history.record_batch("train_batch_size", size)
            history.record("train_batch_count", len(losses[k]))
            if valid is not None:
                for loss, size in valid[k]:
                    history.new_batch()
                    history.record_batch("valid_loss", loss)
                    history.record_batch("valid_batch_size", size)
                history.record("valid_batch_count", len(valid[k]))
            history.record("dur", time.time() - started)
            callbacks = net.callbacks
            callbacks["train_loss"].on_epoch_end(net)
            callbacks["valid_loss"].on_epoch_end(net)
            history.record("adversarial_weight", self.last_lambdas[k])
            history.record("learning_rate", self.last_rates[k])
            callbacks["domain_metrics"].steps_ = metrics[k]
            callbacks["domain_metrics"].on_epoch_end(net)
            try:
                callbacks["divergence_guard"].on_epoch_end(net)
                if "early_stopping" in callbacks:
                    self.sync(k)
                    callbacks["early_stopping"].on_epoch_end(net)
            except KeyboardInterrupt:  # skorch's EarlyStopping stops this way
                self.active[k] = False
            except FloatingPointError as exc:
                self.errors[k] = exc
                self.active[k] = False
            if "label_shift" in callbacks and self.errors[k] is None:
                self.sync(k)
                callbacks["label_shift"].train_data_ = self.groups[self.seeds[k]][0]
                callbacks["label_shift"].on_epoch_end(net)

    def run(self, data):
        """Train; return per copy the fitted skorch net, or the exception that ended it."""
        self._build(data)
        self._make_copies()
        criterion_class, criterion_kwargs = self.first._label_criterion()
        self.criterion = criterion_class(**criterion_kwargs)
        step_count = 0
        self.network.train()
        for epoch in range(1, self.first.max_iter + 1):
            if not self.active.any():
                break
            started = time.time()
            iterators = {
                seed: batches.indexed_steps() for seed, (_, _, batches) in self.groups.items()
            }
            step_losses, step_terms = [], []
            for _ in range(self.steps_per_epoch):
                drawn = {seed: next(iterator) for seed, iterator in iterators.items()}
                lambdas, rates = self._schedule(step_count)
                self.last_lambdas, self.last_rates = lambdas, rates
                step_count += 1
                loss, label_loss, adaptation, step = self._step(drawn, lambdas, rates)
                step_losses.append(loss)
                step_terms.append((label_loss, adaptation, step))
            losses, metrics = self._epoch_records(step_losses, step_terms)
            valid = self._validate() if self.first.early_stopping else None
            self._end_epoch(epoch, losses, metrics, valid, started)
        return self._finish()

    def _epoch_records(self, step_losses, step_terms):
        """Per copy: the steps' ``(loss, size)`` and ``DomainMetrics``' per-step entries."""
        K = len(self.estimators)
        size = self._step_size(step_terms[0][2])
        values = torch.stack(step_losses).to("cpu", torch.float32).T.tolist()
        losses = [[(v, size) for v in values[k]] for k in range(K)]
        labels = torch.stack([t[0] for t in step_terms]).cpu().T.tolist()
        zero = [[0.0] * K] * len(step_terms)
        if step_terms[0][1] is None:
            domain, correct, n_domain = zero, zero, [0] * len(step_terms)
        else:
            domain = torch.stack([t[1].domain_loss for t in step_terms]).cpu().tolist()
            correct = torch.stack([t[1].domain_correct for t in step_terms]).cpu().tolist()
            n_domain = [t[1].n_domain for t in step_terms]
        n_labeled = [t[2].n_labeled for t in step_terms]
        metrics = [
            [
                (labels[k][i], domain[i][k], correct[i][k], n_labeled[i], n_domain[i])
                for i in range(len(step_terms))
            ]
            for k in range(K)
        ]
        return losses, metrics

    def _step_size(self, step):
        """Rows of a step's input (what skorch records as the batch size)."""
        extra = step.n_labeled - step.n_source
        return step.n_domain_rows + extra

    def _finish(self):
        results = []
        for k, (est, net) in enumerate(zip(self.estimators, self.nets, strict=True)):
            if self.errors[k] is not None:
                results.append(self.errors[k])
                continue
            self.sync(k)
            try:
                for name in ("early_stopping", "divergence_guard", "label_shift"):
                    if name in net.callbacks:
                        net.callbacks[name].on_train_end(net)
            except FloatingPointError as exc:
                results.append(exc)
                continue
            fitted = make_net(
                est,
                self.modules[k],
                self.plan.device,
                self.seeds[k],
                self.has_target,
                training=False,
            ).initialize()
            fitted.history = net.history
            est.objective_.adaptation_weight_ = self.last_lambdas[k]
            warning = est._label_shift_warning(self.plan, self.label_shift_check)
            fitted.pending_warnings_ = [] if warning is None else [warning]
            results.append(fitted)
        return results


__all__ = ["StackedTraining"]
