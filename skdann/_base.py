"""``BaseDANN``: what every DANN estimator shares.

Parameters and their constraints, ``fit`` with the roll-back of a failed
refit, the template ``_fit`` (validation, domains, weights, module and net
assembly), ``transform`` and the forward pass used by ``predict``.
Subclasses supply the hooks that differ: how targets are validated,
marked and encoded, and which label criterion trains them.
"""

import dataclasses
import threading
import warnings

import numpy as np
import torch
from sklearn.base import (
    BaseEstimator,
    ClassNamePrefixFeaturesOutMixin,
    TransformerMixin,
    _fit_context,
)
from sklearn.utils import TransformerTags
from sklearn.utils.validation import check_is_fitted, validate_data

from ._assembly import make_module, make_net
from ._device import out_of_memory_hint
from ._fit_rows import plan_fit
from ._inference import fill_by_chunks
from ._module import accepts_csr, seed_dropout
from ._net import TrainingInterrupted, release_init_module
from ._parameters import SHARED_PARAMETER_CONSTRAINTS
from ._prefit import take_prefitted
from ._scoring import LabeledScoreMixin
from ._warnings import user_stacklevel

_INIT_LOCK = threading.Lock()


class BaseDANN(
    LabeledScoreMixin, ClassNamePrefixFeaturesOutMixin, TransformerMixin, BaseEstimator
):
    """Base class of the DANN estimators; use a subclass.

    The defaults of this signature are never used: each subclass passes every
    parameter from its own signature, and the classifier's and the regressor's
    defaults differ (``alpha``, ``learning_rate_init``, ``objective``).
    Subclasses implement ``_check_targets``, ``_target_mask``,
    ``_encode_targets``, ``_label_criterion`` and ``_predict_nonlinearity``.
    """

    __metadata_request__fit = {"sample_domain": True}
    __metadata_request__score = {"sample_domain": True}

    _parameter_constraints: dict = SHARED_PARAMETER_CONSTRAINTS

    def __init__(
        self,
        hidden_layer_sizes=(100, 100),
        activation="relu",
        dropout=0.0,
        alpha=1e-2,
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
        objective="dann",
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
        self.objective = objective

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # ``transform`` returns the learned features, computed in float32.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, X_target=None, *, y_target=None, sample_domain=None, sample_weight=None):
        """Fit the network on labeled rows and unlabeled target rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows. Without ``X_target``: source and target rows
            together, the target rows marked in ``y``. With ``X_target``:
            the labeled source rows.
        y : array-like of shape (n_samples,) or (n_samples, n_outputs)
            Targets of the rows of ``X``; ``-1`` (classifier) or NaN
            (regressor) marks an unlabeled target row.
        X_target : {array-like, sparse matrix} of shape (n_target, n_features), default=None
            Target rows, appended to ``X`` as one target domain.
        y_target : array-like of shape (n_target,) or (n_target, n_outputs), default=None
            Labels of some rows of ``X_target`` (with ``X_target`` only):
            the label, or the marker on unlabeled rows. Labeled target rows
            join the label loss and stay target rows for the adaptation.
            ``None``: all target rows are unlabeled.
        sample_domain : array-like of int of shape (n_samples,), default=None
            Domain of each row of the stacked form (not with ``X_target``):
            positive ids for source domains, negative ids for target
            domains. Each step then takes ``batch_size`` rows from every
            domain and the domain head tells all of them apart. A row of a
            target domain with a label in ``y`` is a labeled target row.
            ``None``: marked rows form the target domain, the others the
            source domain.
        sample_weight : array-like of shape (n_samples,), default=None
            Non-negative weight of each row of ``X`` (of the source rows
            with ``X_target``). A source row's weight scales its label loss
            and its domain loss, a target row's weight its domain loss (and
            its label loss when labeled). Weights are relative within each
            side (normalised to mean 1).

        Returns
        -------
        self : object
            The fitted estimator.
        """
        previous = self._fitted_state()
        try:
            arguments = (X, y, X_target, y_target, sample_domain, sample_weight)
            if take_prefitted(self, arguments):  # a fit a batched search did ahead
                return self
            return self._fit(*arguments)
        except BaseException as exc:
            # Never leave a half-fitted estimator in place of a fitted one.
            self._restore_fitted_state(previous)
            if isinstance(exc, TrainingInterrupted):
                raise KeyboardInterrupt from exc  # Ctrl-C stops the caller, as in sklearn
            raise

    def _fit(self, X, y, X_target, y_target, sample_domain, sample_weight):
        plan = plan_fit(self, X, y, X_target, y_target, sample_domain, sample_weight)
        check = self._label_shift_check(plan) if self._label_shift_check_wanted(plan) else None
        with out_of_memory_hint(plan.device, plan.rows.X, plan.rows.is_target, self.batch_size):
            data = plan.domain_data()
            self._train(data, plan.n_features, plan.device, plan.seed, plan.stratify)
        warning = self._label_shift_warning(plan, check)
        if warning is not None:
            warnings.warn(warning, stacklevel=user_stacklevel())
        return self

    def _label_shift_check_wanted(self, plan):
        """Whether this fit checks the class proportions before training (classifiers)."""
        return False

    def _label_shift_check(self, plan):
        """The :func:`~skdann.label_shift.check_label_shift` of the fit's rows."""
        return None

    def _label_shift_warning(self, plan, check):
        """The warning this fit raises about ``check``, or ``None``."""
        return None

    def _train(self, data, n_features, device, seed, stratify):
        """Build the module and the net, seeded, and train them on ``data``."""
        # torch's global generator is shared by every thread: the module is built from
        # it under a lock, and training draws from generators of its own (batches, the
        # MLP's dropout), so fits in several threads are each reproducible. The global
        # generator stays seeded for a custom extractor's own random layers.
        cuda_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda_devices):
            module = self._init_module(n_features, seed)
            # Sparse rows go to the built-in MLP as CSR tensors: its first layer
            # multiplies them without densifying (benchmarks/sparse.py measured it).
            if accepts_csr(module):
                data = dataclasses.replace(data, csr_steps=True)
            has_target = data.n_domains > data.n_source_domains
            net = make_net(self, module, device, seed, has_target, stratify)
            net.fit(data, None)
        for _, callback in net.callbacks_:  # warnings for the user, raised at their fit call
            for warning in getattr(callback, "pending_warnings_", ()):
                warnings.warn(warning, stacklevel=user_stacklevel())
        self._set_net(net)

    def _init_module(self, n_features, seed):
        """The untrained module of a fit seeded with ``seed`` (seeds torch's global generator)."""
        with _INIT_LOCK:
            torch.manual_seed(seed)
            return seed_dropout(make_module(self, n_features), seed)

    def _set_net(self, net):
        """Set the fitted attributes of a trained net (by ``fit``, or by a batched fit)."""
        release_init_module(net)
        self.net_ = net
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        self._n_features_out = net.module_.label_head.in_features

    def _reweights_by_class(self):
        """Whether the domain loss is weighted by estimated class ratios (IWDAN)."""
        return False

    # Hooks with defaults; subclasses override what differs.

    def _marker_name(self):
        return "-1"

    def _class_weighted(self, source_weight, y_encoded):
        return source_weight

    def _extra_callbacks(self, seed, has_target):
        return []

    def _stratify_labels(self, y_encoded, source_domain):
        return source_domain if source_domain.max() > 0 else None

    def _n_outputs(self):
        raise NotImplementedError

    # Fitted attributes without the trailing underscore (kept and restored by fit).
    _private_fitted = ("_n_features_out",)

    @classmethod
    def _is_fitted_attribute(cls, name):
        if name in cls._private_fitted:
            return True
        return name.endswith("_") and not name.startswith("_")

    def _fitted_state(self):
        """The fitted attributes, by name (what a failed fit puts back)."""
        return {k: v for k, v in vars(self).items() if self._is_fitted_attribute(k)}

    def _restore_fitted_state(self, state):
        """Replace every fitted attribute by those of ``state`` (from :meth:`_fitted_state`)."""
        for key in [k for k in vars(self) if self._is_fitted_attribute(k)]:
            delattr(self, key)
        vars(self).update(state)

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
