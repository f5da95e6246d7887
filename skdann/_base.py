"""``BaseDANN``: what every DANN estimator shares.

Parameters and their constraints, ``fit`` with the roll-back of a failed
refit, the template ``_fit`` (validation, domains, weights, module and net
assembly), ``transform`` and the forward pass used by ``predict``.
Subclasses supply the hooks that differ: how targets are validated,
marked and encoded, and which label criterion trains them.
"""

import warnings

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import TransformerTags, check_random_state
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import ProgressBar

from ._batches import (
    DomainData,
    SourceHoldout,
    select_rows,
    to_tensor,
    weights_tensor,
)
from ._callbacks import BestWeightsEarlyStopping, copy_callbacks
from ._device import check_fits_on_device, out_of_memory_hint, resolve_device
from ._domains import (
    check_same_columns,
    check_same_n_features,
    check_sample_domain,
    split_sample_weight,
)
from ._inference import fill_by_chunks
from ._module import accepts_csr, build_module, domain_logit_count
from ._net import DANNNet
from ._parameters import OPTIMIZERS, SHARED_PARAMETER_CONSTRAINTS


class BaseDANN(ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator):
    """Base class of the DANN estimators; use a subclass.

    Subclasses implement ``_check_targets``, ``_target_mask``,
    ``_encode_targets``, ``_label_criterion`` and ``_predict_nonlinearity``.
    """

    __metadata_request__fit = {"sample_domain": True}

    _parameter_constraints: dict = SHARED_PARAMETER_CONSTRAINTS

    def __init__(
        self,
        hidden_layer_sizes=(100, 100),
        activation="relu",
        dropout=0.0,
        alpha=1e-4,
        domain_hidden_layer_sizes=(100,),
        adversarial_weight=1.0,
        adversarial_schedule="ganin",
        learning_rate_init=0.05,
        learning_rate_schedule="ganin",
        solver="sgd",
        momentum=0.9,
        batch_size=64,
        max_iter=100,
        tol=1e-4,
        early_stopping=False,
        validation_fraction=0.1,
        n_iter_no_change=10,
        feature_extractor=None,
        device="auto",
        random_state=None,
        verbose=0,
        callbacks=None,
        multi_domain_head="softmax",
    ):
        self.hidden_layer_sizes = hidden_layer_sizes
        self.activation = activation
        self.dropout = dropout
        self.alpha = alpha
        self.domain_hidden_layer_sizes = domain_hidden_layer_sizes
        self.adversarial_weight = adversarial_weight
        self.adversarial_schedule = adversarial_schedule
        self.learning_rate_init = learning_rate_init
        self.learning_rate_schedule = learning_rate_schedule
        self.solver = solver
        self.momentum = momentum
        self.batch_size = batch_size
        self.max_iter = max_iter
        self.tol = tol
        self.early_stopping = early_stopping
        self.validation_fraction = validation_fraction
        self.n_iter_no_change = n_iter_no_change
        self.feature_extractor = feature_extractor
        self.device = device
        self.random_state = random_state
        self.verbose = verbose
        self.callbacks = callbacks
        self.multi_domain_head = multi_domain_head

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # ``transform`` returns the learned features, computed in float32.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, X_target=None, *, sample_domain=None, sample_weight=None):
        """Fit the network on labeled source rows and unlabeled target rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows. Without ``X_target``: source and target rows
            together, the target rows marked in ``y``. With ``X_target``:
            the labeled source rows.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets of the source rows; ``-1`` (classifier) or NaN
            (regressor) marks a target row.
        X_target : {array-like, sparse matrix} of shape (n_target, n_features), default=None
            Unlabeled target rows, appended to ``X`` as if ``y`` marked them.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Domain of each row of the stacked form (not with ``X_target``):
            positive ids for source domains, negative ids for target
            domains. Each step then takes ``batch_size`` rows from every
            domain and the domain head tells all of them apart. ``None``
            gives one source and one target domain.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row of ``X`` (of the source rows
            with ``X_target``). A source row's weight scales its label loss
            and its domain loss, a target row's weight its domain loss.
            Weights are relative within each side (normalised to mean 1).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        previous = {k: v for k, v in vars(self).items() if _is_fitted_attribute(k)}
        try:
            return self._fit(X, y, X_target, sample_domain, sample_weight)
        except BaseException:
            # Never leave a half-fitted estimator in place of a fitted one.
            for key in [k for k in vars(self) if _is_fitted_attribute(k)]:
                delattr(self, key)
            vars(self).update(previous)
            raise

    def _fit(self, X, y, X_target, sample_domain, sample_weight):
        device = resolve_device(self.device)  # before any data work
        if X_target is not None:
            check_same_columns(X, X_target)
            if sample_domain is not None:
                raise ValueError(
                    "sample_domain applies to the stacked form only; with X_target, "
                    "stack the domains (stack_domains) and give one id per row."
                )
        X, y = self._check_targets(X, y)
        is_target = self._target_mask(y)
        source_weight, target_weight = split_sample_weight(sample_weight, is_target, X_target)
        source_domain = target_domain = None
        if X_target is not None:
            # Same data as fit(*stack_domains(X, y, X_target)), without the copy.
            if is_target.any():
                raise ValueError(
                    f"y contains the label {self._marker_name()}, which marks target rows, "
                    "and X_target was given too: with X_target, y must hold source "
                    "labels only."
                )
            X_target = check_array(
                X_target, accept_sparse="csr", dtype=np.float32, input_name="X_target"
            )
            check_same_n_features(X.shape[1], X_target.shape[1])
            X_source, y_source = X, y
        else:
            if sample_domain is not None:
                source_domain, target_domain, *_ = check_sample_domain(sample_domain, is_target)
            X_source, y_source = select_rows(X, ~is_target), y[~is_target]
            X_target = select_rows(X, is_target) if is_target.any() else None
        if len(y_source) == 0:
            raise ValueError(
                f"y has no labeled source rows: every row is marked {self._marker_name()} "
                f"(target). {type(self).__name__} needs labeled source rows to learn from."
            )
        y_encoded = self._encode_targets(y_source, n_marked=int(is_target.sum()))
        source_weight = self._class_weighted(source_weight, y_encoded)
        if X_target is None:
            warnings.warn(
                f"y contains no target rows (y == {self._marker_name()}) and no X_target "
                "was given; training source-only, without the adversarial loss.",
                UserWarning,
                stacklevel=4,
            )
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        check_fits_on_device(device, X_source, X_target, self.batch_size)
        with out_of_memory_hint(device, X_source, X_target, self.batch_size):
            data = DomainData(
                to_tensor(X_source, device),
                torch.as_tensor(y_encoded, device=device),
                None if X_target is None else to_tensor(X_target, device),
                source_domain,
                target_domain,
                weights_tensor(source_weight, device),
                None if X_target is None else weights_tensor(target_weight, device),
            )
            self.n_domains_ = data.n_source_domains + data.n_target_domains
            n_domain_logits = domain_logit_count(
                self.multi_domain_head, data.n_source_domains, data.n_target_domains
            )
            self._train(data, X.shape[1], y_encoded, device, seed, n_domain_logits)
        return self

    def _train(self, data, n_features, y_encoded, device, seed, n_domain_logits):
        """Build the module and the net, seeded, and train them on ``data``."""
        cuda_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(seed)
            module = self._make_module(n_features, n_domain_logits)
            # Sparse rows go to the built-in MLP as CSR tensors: its first layer
            # multiplies them without densifying (benchmarks/sparse.py measured it).
            data.csr_steps = accepts_csr(module)
            net = self._build_net(module, device, seed, data, y_encoded)
            net.fit(data, None)
        # The trained module is net.module_. skorch maps module_ (not the module it was
        # built from, the same object) to the CPU when unpickling, so a model fitted on
        # a GPU would not load without one; the reference also doubled the pickle.
        net.module = None

        self.net_ = net
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        self._n_features_out = module.label_head.in_features

    def _make_module(self, n_features, n_domain_logits=None):
        """Build the module from the parameters and the fitted outputs and domains."""
        return build_module(
            n_features,
            self._n_outputs(),
            hidden_layer_sizes=self.hidden_layer_sizes,
            activation=self.activation,
            dropout=self.dropout,
            domain_hidden_layer_sizes=self.domain_hidden_layer_sizes,
            feature_extractor=self.feature_extractor,
            n_domains=max(self.n_domains_, 2),
            n_domain_logits=n_domain_logits,
        )

    def _build_net(self, module, device, seed, data, y_encoded):
        callbacks = []
        train_split = None
        if self.early_stopping:
            callbacks.append(
                (
                    "early_stopping",
                    BestWeightsEarlyStopping(
                        patience=self.n_iter_no_change,
                        threshold=self.tol,
                        threshold_mode="abs",
                        load_best=True,
                    ),
                )
            )
            stratify = self._stratify_labels(y_encoded, data.source_domain)
            train_split = SourceHoldout(self.validation_fraction, seed, stratify)
        callbacks += self._extra_callbacks(seed, data is not None and data.X_target is not None)
        callbacks += copy_callbacks(self.callbacks)
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar(batches_per_epoch="count")))
        optimizer_kwargs = {"weight_decay": self.alpha}
        if self.solver == "sgd":
            optimizer_kwargs["momentum"] = self.momentum
        criterion, criterion_kwargs = self._label_criterion()
        return DANNNet(
            module,
            criterion=criterion,
            optimizer=OPTIMIZERS[self.solver],
            lr=self.learning_rate_init,
            max_epochs=self.max_iter,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            predict_nonlinearity=self._predict_nonlinearity(),
            device=device,
            verbose=int(self.verbose > 0),
            batch_seed=seed,
            callbacks__schedule__adversarial_weight=self.adversarial_weight,
            callbacks__schedule__adversarial_schedule=self.adversarial_schedule,
            callbacks__schedule__learning_rate_schedule=self.learning_rate_schedule,
            **{f"criterion__{k}": v for k, v in criterion_kwargs.items()},
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        )

    # Hooks with defaults; subclasses override what differs.

    def _marker_name(self):
        return "-1"

    def _class_weighted(self, source_weight, y_encoded):
        return source_weight

    def _extra_callbacks(self, seed, has_target):
        return []

    def _stratify_labels(self, y_encoded, source_domain):
        return source_domain

    def _n_outputs(self):
        raise NotImplementedError

    def _forward(self, X, reduce=None):
        """Validate ``X`` and return the network's output for it, as float64.

        The rows are read in chunks and each chunk's output is written into
        one array allocated up front: a list of per-chunk outputs would be
        small long-lived blocks between the chunks' freed buffers, and the C
        allocator could not reuse that memory, so it grew with the rows.
        ``reduce`` maps a chunk's output (after the estimator's nonlinearity)
        to what is kept of it, e.g. ``argmax``, so ``predict`` holds one
        label per row, not every class's probability.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        nonlinearity = self._predict_nonlinearity()
        return fill_by_chunks(
            self.net_.forward_iter(X, training=False),
            X.shape[0],
            lambda output: output if nonlinearity is None else nonlinearity(output),
            reduce,
        )

    def transform(self, X):
        """Return the learned (domain-invariant) features.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to embed.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            Output of the feature extractor, in evaluation mode.
        """
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        net = self.net_
        extractor = net.module_.feature_extractor
        extractor.eval()
        batches = net.get_iterator(net.get_dataset(X), training=False)
        with torch.no_grad():
            outputs = (extractor(batch) for batch, _ in batches)
            return fill_by_chunks(outputs, X.shape[0], dtype=np.float32)

    def fit_transform(self, X, y, X_target=None, **fit_params):
        """Fit, then return the learned features of ``X``.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows, as in :meth:`fit`.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets, as in :meth:`fit`.
        X_target : {array-like, sparse matrix} of shape (n_target, n_features), default=None
            Unlabeled target rows, as in :meth:`fit`.
        **fit_params : dict
            ``sample_domain`` and ``sample_weight``, as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            Features of the rows of ``X`` (not of ``X_target``).

        Raises
        ------
        ValueError
            When ``y`` marks target rows. A :class:`~sklearn.pipeline.Pipeline`
            calls ``fit_transform`` on every step but the last and hands
            each the same ``y``, so the model after this one would learn
            the marker as a class (or value). Use DANN as the last step, or
            fit it, then hand ``transform`` features to the next model.
        """
        if X_target is None and y is not None and self._target_mask(np.asarray(y)).any():
            name = type(self).__name__
            raise ValueError(
                f"{name}.fit_transform got a y that marks target rows (y == "
                f"{self._marker_name()}). In a Pipeline this means {name} is a feature step "
                "before another model, which would learn the target marker from the same y. "
                f"Make {name} the last step, or fit it and hand its transform(X) features "
                "to the next model yourself."
            )
        return self.fit(X, y, X_target, **fit_params).transform(X)


def _is_fitted_attribute(name):
    if name in ("_n_features_out", "_y_ndim"):
        return True
    return name.endswith("_") and not name.startswith("_")
