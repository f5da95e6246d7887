"""The network and the skorch net an estimator's parameters describe.

Used by ``fit`` (for training) and by model files (for inference, around
saved weights): both build from the parameters and fitted attributes alone.
"""

from skorch.callbacks import ProgressBar

from ._batches import SourceHoldout
from ._callbacks import BestWeightsEarlyStopping, copy_callbacks
from ._module import build_module
from ._net import DANNNet
from ._parameters import OPTIMIZERS


def make_module(estimator, n_features):
    """The module of a fitted (or being fitted) estimator: extractor, label head, heads."""
    return build_module(
        n_features,
        estimator._n_outputs(),
        estimator.objective_,
        hidden_layer_sizes=estimator.hidden_layer_sizes,
        activation=estimator.activation,
        dropout=estimator.dropout,
        domain_hidden_layer_sizes=estimator.domain_hidden_layer_sizes,
        feature_extractor=estimator.feature_extractor,
        n_source_domains=estimator.n_source_domains_,
        n_target_domains=estimator.n_domains_ - estimator.n_source_domains_,
        multi_domain_head=estimator.multi_domain_head,
    )


def make_net(estimator, module, device, seed, has_target, stratify=None, training=True):
    """The skorch net around ``module``; ``training=False`` for inference only.

    Parameters
    ----------
    estimator : BaseDANN
        Its parameters, ``objective_`` and hooks (label criterion, extra
        callbacks) configure the net.
    module : DANNModule
        The network.
    device : str
        Where it runs.
    seed : int
        Seed of the training batches and of the early-stopping split.
    has_target : bool
        Whether the training data holds target rows.
    stratify : ndarray or None
        Labels of the source rows to stratify the early-stopping split on.
    training : bool
        ``False`` leaves out what only training needs (early stopping,
        label-shift estimation, user callbacks, progress bar).
    """
    est = estimator
    callbacks = []
    train_split = None
    if training and est.early_stopping:
        stopping = BestWeightsEarlyStopping(
            patience=est.n_iter_no_change, threshold=est.tol, threshold_mode="abs", load_best=True
        )
        callbacks.append(("early_stopping", stopping))
        train_split = SourceHoldout(est.validation_fraction, seed, stratify)
    if training:
        callbacks += est._extra_callbacks(seed, has_target)
        callbacks += copy_callbacks(est.callbacks)
        if est.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar(batches_per_epoch="count")))
    optimizer_kwargs = {"weight_decay": est.alpha}
    if est.solver == "sgd":
        optimizer_kwargs["momentum"] = est.momentum
    criterion, criterion_kwargs = est._label_criterion()
    return DANNNet(
        module,
        criterion=criterion,
        optimizer=OPTIMIZERS[est.solver],
        lr=est.learning_rate_init,
        max_epochs=est.max_iter,
        batch_size=est.batch_size,
        train_split=train_split,
        callbacks=callbacks,
        device=device,
        verbose=int(est.verbose > 0),
        objective=est.objective_,
        batch_seed=seed,
        callbacks__schedule__adversarial_weight=est.adversarial_weight,
        callbacks__schedule__adversarial_schedule=est.adversarial_schedule,
        callbacks__schedule__learning_rate_schedule=est.learning_rate_schedule,
        **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
        **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
    )
