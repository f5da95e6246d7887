"""``DANNClassifier``: the scikit-learn estimator."""

import copy
import warnings
from numbers import Integral, Real

import numpy as np
import scipy.sparse as sp
import torch
from sklearn.base import BaseEstimator, ClassifierMixin, _fit_context
from sklearn.metrics import accuracy_score
from sklearn.model_selection import train_test_split
from sklearn.utils import TransformerTags, check_random_state
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_array, check_is_fitted, validate_data
from skorch.callbacks import PrintLog, ProgressBar
from torch import nn

from ._domains import check_same_n_features, target_mask
from ._module import DANNModule, make_mlp
from ._net import DANNNet, DivergenceGuard, DomainData, DomainMetrics, SourceEarlyStopping
from .schedules import (
    StepSchedule,
    constant_factor,
    ganin_adversarial_factor,
    ganin_learning_rate_factor,
)

_ADVERSARIAL_SCHEDULES = {"ganin": ganin_adversarial_factor, "constant": constant_factor}
_LEARNING_RATE_SCHEDULES = {"ganin": ganin_learning_rate_factor, "constant": constant_factor}
_OPTIMIZERS = {"sgd": torch.optim.SGD, "adam": torch.optim.Adam}


class DANNClassifier(ClassifierMixin, BaseEstimator):
    """Domain-adversarial neural network classifier (DANN).

    Learns a classifier for an unlabeled *target* domain from labeled
    *source* rows and unlabeled target rows (Ganin & Lempitsky, 2015; Ganin
    et al., 2016). A feature extractor feeds a label head, trained on the
    source rows, and, through a gradient reversal layer, a domain head that
    tells source from target. The reversed domain gradient makes the
    features domain-invariant while the label loss keeps them predictive.

    The network is a PyTorch module trained by a skorch net; each step takes
    ``batch_size`` source rows and ``batch_size`` target rows.

    Parameters
    ----------
    hidden_layer_sizes : array-like of int or int, default=(100, 100)
        Hidden layers of the feature extractor MLP (ignored when
        ``feature_extractor`` is given). The label head is a linear layer on
        the last one.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers of the feature extractor MLP and of
        the domain head.
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the feature extractor
        MLP.
    alpha : float, default=1e-4
        L2 penalty, applied as weight decay to all parameters.
    domain_hidden_layer_sizes : array-like of int or int, default=(100,)
        Hidden layers of the domain head, which ends in a single logit
        trained with ``BCEWithLogitsLoss``. The paper uses one hidden layer
        of 100 units for small inputs; ``()`` gives a linear domain head.
    adversarial_weight : float, default=1.0
        Maximal weight ``lambda`` of the reversed domain gradient. 0 trains
        the same network source-only.
    adversarial_schedule : {"ganin", "constant"} or callable, default="ganin"
        How ``lambda`` evolves with training progress ``p`` in ``[0, 1]``:
        ``"ganin"`` ramps it up as ``adversarial_weight * (2 / (1 +
        exp(-10 p)) - 1)``; ``"constant"`` keeps ``adversarial_weight``; a
        callable ``f(p)`` gives ``adversarial_weight * f(p)``. Updated every
        step.
    learning_rate_init : float, default=0.05
        Initial learning rate ``mu0``. The paper uses 0.01 with its
        networks; 0.05 with the annealing schedule did better on the
        MNIST -> optdigits demo (see ``python -m skdann.demo``).
    learning_rate_schedule : {"ganin", "constant"} or callable, default="ganin"
        ``"ganin"`` anneals the learning rate as ``mu0 / (1 + 10 p) ** 0.75``;
        ``"constant"`` keeps it; a callable ``f(p)`` gives ``mu0 * f(p)``.
        Updated every step.
    solver : {"sgd", "adam"}, default="sgd"
        Optimizer. ``"sgd"`` uses ``momentum`` (0.9 in the paper).
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    batch_size : int, default=64
        Rows taken from **each** domain per step (so a step sees
        ``2 * batch_size`` rows when there are target rows).
    max_iter : int, default=100
        Maximal number of epochs. One epoch is one pass over the larger
        domain; the smaller domain cycles. The schedules run over
        ``max_iter`` epochs even when early stopping ends training sooner.
    tol : float, default=1e-4
        Minimal decrease of the held-out source loss that counts as an
        improvement for early stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the source rows (stratified) and
        stop when their label loss has not improved for ``n_iter_no_change``
        epochs; the weights of the best epoch are restored. Target rows are
        never held out (they have no labels).
    validation_fraction : float, default=0.1
        Fraction of source rows held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    feature_extractor : torch.nn.Module or callable, default=None
        Custom feature extractor (a CNN, say) replacing the MLP. Either a
        module, which is deep-copied at each ``fit`` so the one you pass is
        never trained, or a callable ``f(n_features_in_) -> nn.Module``. It
        receives float32 batches of shape ``(batch, n_features_in_)``
        (reshape images inside it) and must return a 2-D tensor; the heads
        are sized from its output.
    device : str or torch.device, default="auto"
        Where to train and predict. ``"auto"`` picks ``"cuda"`` when it is
        available, else ``"cpu"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the early
        stopping split. With an int, fits on the CPU are reproducible.
    verbose : int, default=0
        1 prints one line per epoch (losses, domain accuracy, lambda,
        learning rate, time); 2 adds a progress bar over the steps of each
        epoch (needs ``tqdm``).
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks, passed to the net. They are deep-copied at
        each ``fit``.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in the source rows.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string
        column names.
    n_iter_ : int
        Number of epochs run.
    net_ : skorch.NeuralNet
        The fitted net; ``net_.module_`` is the PyTorch module, with
        ``feature_extractor``, ``label_head``, ``grl`` and ``domain_head``.
    history_ : skorch.History
        One entry per epoch with ``train_loss`` (label + domain loss),
        ``train_label_loss``, ``train_domain_loss``,
        ``train_domain_accuracy``, ``adversarial_weight`` (lambda in force
        at the end of the epoch), ``learning_rate``, ``dur`` (seconds) and,
        with early stopping, ``valid_loss``. Read a column with
        ``history_[:, "train_domain_loss"]``.

    See Also
    --------
    stack_domains : Build ``(X, y)`` with ``y == -1`` on target rows.
    GradientReversal : The gradient reversal layer.

    Notes
    -----
    **Marking target rows.** ``fit(X, y)`` treats rows with ``y == -1`` as
    unlabeled target rows, as :class:`~sklearn.semi_supervised.SelfTrainingClassifier`
    does. For string labels, mark target rows with the string ``"-1"``
    (what :func:`stack_domains` returns); an object array holding the
    integer ``-1`` is also accepted. ``fit(X_source, y_source, X_target)`` is the same as
    ``fit(*stack_domains(X_source, y_source, X_target))``. Use the stacked
    form in a :class:`~sklearn.pipeline.Pipeline` so that preprocessing is
    fitted on, and applied to, the rows of both domains.

    Inputs may be float64, integer, pandas or sparse (densified to float32:
    plan memory for ``n_rows * n_features * 4`` bytes); computation is in
    float32. Training tensors are held on ``device`` for the whole fit.

    A failed ``fit`` leaves a previously fitted model as it was.

    References
    ----------
    Y. Ganin and V. Lempitsky. Unsupervised Domain Adaptation by
    Backpropagation. ICML 2015.

    Y. Ganin, E. Ustinova, H. Ajakan, P. Germain, H. Larochelle,
    F. Laviolette, M. Marchand and V. Lempitsky. Domain-Adversarial Training
    of Neural Networks. JMLR 17(59), 2016.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann import DANNClassifier
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(100, 2))
    >>> y_source = (X_source[:, 0] > 0).astype(int)
    >>> X_target = rng.normal(size=(100, 2)) + [0.5, 0.5]
    >>> clf = DANNClassifier(max_iter=5, random_state=0)
    >>> clf.fit(X_source, y_source, X_target).predict(X_target[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        "hidden_layer_sizes": ["array-like", Interval(Integral, 1, None, closed="left")],
        "activation": [StrOptions({"relu", "tanh", "logistic", "identity"})],
        "dropout": [Interval(Real, 0, 1, closed="left")],
        "alpha": [Interval(Real, 0, None, closed="left")],
        "domain_hidden_layer_sizes": [
            "array-like",
            Interval(Integral, 1, None, closed="left"),
        ],
        "adversarial_weight": [Interval(Real, 0, None, closed="left")],
        "adversarial_schedule": [StrOptions(set(_ADVERSARIAL_SCHEDULES)), callable],
        "learning_rate_init": [Interval(Real, 0, None, closed="neither")],
        "learning_rate_schedule": [StrOptions(set(_LEARNING_RATE_SCHEDULES)), callable],
        "solver": [StrOptions(set(_OPTIMIZERS))],
        "momentum": [Interval(Real, 0, 1, closed="both")],
        "batch_size": [Interval(Integral, 1, None, closed="left")],
        "max_iter": [Interval(Integral, 1, None, closed="left")],
        "tol": [Interval(Real, 0, None, closed="left")],
        "early_stopping": ["boolean"],
        "validation_fraction": [Interval(Real, 0, 1, closed="neither")],
        "n_iter_no_change": [Interval(Integral, 1, None, closed="left")],
        "feature_extractor": [None, callable],
        "device": [str, torch.device],
        "random_state": ["random_state"],
        "verbose": ["verbose"],
        "callbacks": [None, list],
    }

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

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True
        # ``transform`` returns the learned features, computed in float32.
        tags.transformer_tags = TransformerTags(preserves_dtype=["float32"])
        return tags

    @_fit_context(prefer_skip_nested_validation=True)
    def fit(self, X, y, X_target=None):
        """Fit the network on labeled source rows and unlabeled target rows.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows. Without ``X_target``: source and target rows
            together, the target rows marked by ``y == -1``. With
            ``X_target``: the labeled source rows.
        y : array-like of shape (n_samples,)
            Class labels of the source rows; ``-1`` marks a target row
            (see Notes of the class for string labels).
        X_target : {array-like, sparse matrix} of shape (n_target, n_features), default=None
            Unlabeled target rows, appended to ``X`` as if ``y`` held ``-1``
            for them.

        Returns
        -------
        self : DANNClassifier
            The fitted estimator.
        """
        previous = {k: v for k, v in vars(self).items() if _is_fitted_attribute(k)}
        try:
            return self._fit(X, y, X_target)
        except BaseException:
            # Never leave a half-fitted estimator in place of a fitted one.
            for key in [k for k in vars(self) if _is_fitted_attribute(k)]:
                delattr(self, key)
            vars(self).update(previous)
            raise

    def _fit(self, X, y, X_target):
        if X_target is not None:
            _check_same_columns(X, X_target)
        X, y = validate_data(
            self, X, y, accept_sparse="csr", dtype=np.float32, ensure_min_samples=1
        )
        is_target = target_mask(y)
        if X_target is not None:
            # Same data as fit(*stack_domains(X, y, X_target)), without the copy.
            if is_target.any():
                raise ValueError(
                    "y contains the label -1, which marks target rows, and X_target "
                    "was given too: with X_target, y must hold source labels only."
                )
            X_target = check_array(
                X_target, accept_sparse="csr", dtype=np.float32, input_name="X_target"
            )
            check_same_n_features(X.shape[1], X_target.shape[1])
            X_source, y_source = X, y
        else:
            X_source, y_source = _select_rows(X, ~is_target), y[~is_target]
            X_target = _select_rows(X, is_target) if is_target.any() else None
        if len(y_source) == 0:
            raise ValueError(
                "y has no labeled source rows: every row is marked -1 (target). "
                "DANNClassifier needs labeled source rows to learn the classes."
            )
        check_classification_targets(y_source)
        classes, y_encoded = np.unique(y_source, return_inverse=True)
        if len(classes) < 2:
            raise ValueError(
                f"The source labels contain only one class ({_label_repr(classes[0])}); "
                "DANNClassifier needs at least two classes."
            )
        if X_target is None:
            warnings.warn(
                "y contains no target rows (y == -1) and no X_target was given; "
                "training source-only, without the adversarial loss.",
                UserWarning,
                stacklevel=4,
            )
        device = _resolve_device(self.device)
        seed = check_random_state(self.random_state).randint(np.iinfo(np.int32).max)
        data = DomainData(
            _to_tensor(X_source, device),
            torch.as_tensor(y_encoded, dtype=torch.int64, device=device),
            None if X_target is None else _to_tensor(X_target, device),
        )

        cuda_devices = [torch.device(device).index or 0] if device.startswith("cuda") else []
        with torch.random.fork_rng(devices=cuda_devices):
            torch.manual_seed(seed)
            module = self._build_module(X.shape[1], len(classes))
            net = self._build_net(module, device, seed, data)
            net.fit(data, None)

        self.classes_ = classes
        self.net_ = net
        self.history_ = net.history
        self.n_iter_ = len(net.history)
        return self

    def _build_module(self, n_features, n_classes):
        if self.feature_extractor is None:
            sizes = _layer_sizes(self.hidden_layer_sizes, "hidden_layer_sizes")
            extractor = make_mlp(n_features, sizes, self.activation, self.dropout)
        elif isinstance(self.feature_extractor, nn.Module):
            extractor = copy.deepcopy(self.feature_extractor)
        else:
            extractor = self.feature_extractor(n_features)
            if not isinstance(extractor, nn.Module):
                raise TypeError(
                    "feature_extractor must be a torch.nn.Module or a callable "
                    f"returning one; the callable returned {type(extractor).__name__}."
                )
        n_features_out = _output_width(extractor, n_features)
        domain_sizes = _layer_sizes(
            self.domain_hidden_layer_sizes, "domain_hidden_layer_sizes", allow_empty=True
        )
        return DANNModule(extractor, n_features_out, n_classes, domain_sizes, self.activation)

    def _build_net(self, module, device, seed, data):
        n_target = 0 if data.X_target is None else len(data.X_target)
        if self.early_stopping:
            n_source_train = len(data.X_source) - int(
                np.ceil(self.validation_fraction * len(data.X_source))
            )
        else:
            n_source_train = len(data.X_source)
        steps_per_epoch = int(np.ceil(max(n_source_train, n_target) / self.batch_size))
        schedule = StepSchedule(
            adversarial_weight=self.adversarial_weight,
            adversarial_factor=_resolve_schedule(
                self.adversarial_schedule, _ADVERSARIAL_SCHEDULES
            ),
            learning_rate=self.learning_rate_init,
            learning_rate_factor=_resolve_schedule(
                self.learning_rate_schedule, _LEARNING_RATE_SCHEDULES
            ),
            total_steps=steps_per_epoch * self.max_iter,
        )
        callbacks = [
            ("schedule", schedule),
            ("domain_metrics", DomainMetrics()),
            ("divergence_guard", DivergenceGuard()),
        ]
        train_split = None
        if self.early_stopping:
            callbacks.append(
                ("early_stopping", SourceEarlyStopping(self.n_iter_no_change, self.tol))
            )
            train_split = _SourceHoldout(self.validation_fraction, seed)
        callbacks += [_named(cb, i) for i, cb in enumerate(copy.deepcopy(self.callbacks or []))]
        if self.verbose >= 2:
            callbacks.append(("progress_bar", ProgressBar(batches_per_epoch=steps_per_epoch)))
        callbacks.append(("print_log", PrintLog()))

        optimizer_kwargs = {"weight_decay": self.alpha}
        if self.solver == "sgd":
            optimizer_kwargs["momentum"] = self.momentum
        return DANNNet(
            module,
            criterion=nn.CrossEntropyLoss,
            optimizer=_OPTIMIZERS[self.solver],
            lr=self.learning_rate_init,
            max_epochs=self.max_iter,
            batch_size=self.batch_size,
            train_split=train_split,
            callbacks=callbacks,
            device=device,
            verbose=int(self.verbose > 0),
            batch_seed=seed,
            **{f"optimizer__{k}": v for k, v in optimizer_kwargs.items()},
        )

    def _validated_tensor(self, X):
        check_is_fitted(self)
        X = validate_data(self, X, accept_sparse="csr", dtype=np.float32, reset=False)
        return _to_tensor(X, self.net_.device)

    def predict_proba(self, X):
        """Return class probabilities.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        ndarray of shape (n_samples, n_classes)
            Probability of each class in ``classes_``.
        """
        X = self._validated_tensor(X)
        with torch.no_grad():
            proba = self.net_.predict_proba(X)
        return proba.astype(np.float64)

    def predict(self, X):
        """Predict class labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.

        Returns
        -------
        ndarray of shape (n_samples,)
            Predicted labels, from ``classes_``.
        """
        proba = self.predict_proba(X)
        return self.classes_[np.argmax(proba, axis=1)]

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
        X = self._validated_tensor(X)
        net = self.net_
        extractor = net.module_.feature_extractor
        extractor.eval()
        batches = net.get_iterator(net.get_dataset(X), training=False)
        with torch.no_grad():
            features = [extractor(batch).cpu() for batch, _ in batches]
        return torch.cat(features).numpy()

    def fit_transform(self, X, y, X_target=None):
        """Fit, then return the learned features of ``X``.

        Lets a ``DANNClassifier`` serve as a feature-learning step inside a
        :class:`~sklearn.pipeline.Pipeline`, followed by another model.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Training rows, as in :meth:`fit`.
        y : array-like of shape (n_samples,)
            Labels, ``-1`` on target rows, as in :meth:`fit`.
        X_target : {array-like, sparse matrix} of shape (n_target, n_features), default=None
            Unlabeled target rows, as in :meth:`fit`.

        Returns
        -------
        ndarray of shape (n_samples, n_features_out)
            Features of the rows of ``X`` (not of ``X_target``).
        """
        return self.fit(X, y, X_target).transform(X)

    def score(self, X, y, sample_weight=None):
        """Return the accuracy on the labeled rows.

        Rows with ``y == -1`` (target rows, whose labels are unknown) are
        ignored, so the score of a stacked validation fold is the accuracy
        on its source rows. To measure target accuracy, pass target rows
        with their true labels.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to classify.
        y : array-like of shape (n_samples,)
            True labels; ``-1`` marks rows to ignore.
        sample_weight : array-like of shape (n_samples,), default=None
            Sample weights.

        Returns
        -------
        float
            Accuracy of ``predict(X)`` on the rows with ``y != -1``.
        """
        y = np.asarray(y)
        labeled = ~target_mask(y)
        if not labeled.any():
            raise ValueError("score needs labeled rows, but every row of y is -1 (target).")
        if not labeled.all():
            X = X[labeled] if not hasattr(X, "iloc") else X.iloc[labeled]
            y = y[labeled]
            if sample_weight is not None:
                sample_weight = np.asarray(sample_weight)[labeled]
        return accuracy_score(y, self.predict(X), sample_weight=sample_weight)


class _SourceHoldout:
    """skorch ``train_split``: hold out a stratified share of the source rows."""

    def __init__(self, fraction, seed):
        self.fraction = fraction
        self.seed = seed

    def __call__(self, dataset, y=None, **fit_params):
        labels = dataset.y_source.cpu().numpy()
        indices = np.arange(len(labels))
        try:
            train, valid = train_test_split(
                indices, test_size=self.fraction, random_state=self.seed, stratify=labels
            )
        except ValueError:
            # A class too small to stratify: fall back to a plain random split.
            train, valid = train_test_split(
                indices, test_size=self.fraction, random_state=self.seed
            )
        device = dataset.X_source.device
        train = torch.as_tensor(np.sort(train), device=device)
        valid = torch.as_tensor(np.sort(valid), device=device)
        return (
            DomainData(dataset.X_source[train], dataset.y_source[train], dataset.X_target),
            DomainData(dataset.X_source[valid], dataset.y_source[valid]),
        )


def _check_same_columns(X, X_target):
    columns, target_columns = getattr(X, "columns", None), getattr(X_target, "columns", None)
    if columns is not None and target_columns is not None:
        if list(columns) != list(target_columns):
            raise ValueError(
                f"X_target's columns differ from X's: {list(target_columns)} != {list(columns)}."
            )


def _label_repr(label):
    return repr(label.item() if isinstance(label, np.generic) else label)


def _is_fitted_attribute(name):
    return name.endswith("_") and not name.startswith("_")


def _resolve_device(device):
    device = str(device)
    if device == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    return device


def _resolve_schedule(schedule, named):
    return named[schedule] if isinstance(schedule, str) else schedule


def _layer_sizes(sizes, name, allow_empty=False):
    sizes = (sizes,) if isinstance(sizes, Integral) else tuple(sizes)
    if not allow_empty and not sizes:
        raise ValueError(f"{name} must hold at least one layer size, got {sizes}.")
    if any(not isinstance(s, Integral) or s < 1 for s in sizes):
        raise ValueError(f"{name} must hold positive integers, got {sizes}.")
    return tuple(int(s) for s in sizes)


def _output_width(extractor, n_features):
    """Run two dummy rows through ``extractor`` and return its output width."""
    was_training = extractor.training
    extractor.eval()
    with torch.no_grad():
        out = extractor(torch.zeros(2, n_features))
    extractor.train(was_training)
    if not isinstance(out, torch.Tensor) or out.ndim != 2:
        shape = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        raise ValueError(
            "feature_extractor must return a 2-D tensor of shape (n_samples, "
            f"n_features_out); for input of shape (2, {n_features}) it returned {shape}."
        )
    return out.shape[1]


def _select_rows(X, mask):
    """Rows of ``X`` where ``mask`` is true: a view when they are one block."""
    rows = np.flatnonzero(mask)
    if len(rows) and rows[-1] - rows[0] + 1 == len(rows):
        return X[rows[0] : rows[-1] + 1]
    return X[rows]


def _to_tensor(X, device):
    if sp.issparse(X):
        X = X.toarray()
    X = np.ascontiguousarray(X, dtype=np.float32)
    if not X.flags.writeable:
        X = X.copy()
    return torch.from_numpy(X).to(device)


def _named(callback, index):
    if isinstance(callback, tuple):
        return callback
    return (f"user_{index}_{type(callback).__name__}", callback)
