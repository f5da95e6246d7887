"""``DANNClassifier``: DANN with a label head trained by cross-entropy."""

import functools
from numbers import Real

import numpy as np
import torch
from sklearn.base import ClassifierMixin
from sklearn.metrics import accuracy_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.class_weight import compute_class_weight
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import validate_data

from ._base import BaseDANN
from ._docstrings import fill_parameters
from ._domains import check_numeric_columns, target_mask
from ._net import LabelLoss
from ._scoring import LabeledScoreMixin
from .label_shift import ClassRatioEstimator, LabelShiftWarning, check_label_shift


@fill_parameters
class DANNClassifier(ClassifierMixin, BaseDANN):
    """Domain-adversarial neural network classifier (DANN).

    Learns a classifier for an unlabeled *target* domain from labeled
    *source* rows and unlabeled target rows (Ganin & Lempitsky, 2015; Ganin
    et al., 2016). A feature extractor feeds a label head, trained on the
    source rows, and, through a gradient reversal layer, a domain head that
    tells source from target. The reversed domain gradient makes the
    features domain-invariant while the label loss keeps them predictive.

    The network is a PyTorch module trained by a skorch net; each step takes
    ``batch_size`` rows from every domain.

    Parameters
    ----------
    {shared_parameters}
    class_weight : "balanced", dict or None, default=None
        Weights of the classes in the label loss, multiplied into
        ``sample_weight``: ``"balanced"`` weighs each class inversely to its
        frequency among the source rows; a dict maps labels to weights.
    label_shift : {"iwdan"} or None, default=None
        ``"iwdan"``: importance-weighted DANN (Combes et al., 2020). At the
        end of every epoch the target's class proportions are estimated by
        black-box shift estimation on the model's predictions
        (:mod:`skdann.label_shift`), and in
        the next epoch each source row's domain loss is weighted by its
        class's ratio of target to source proportion, so the features of a
        re-balanced source are aligned with the target's. ``None``: plain
        DANN.
    label_shift_warning : float or None, default=0.12
        Warn (:class:`~skdann.label_shift.LabelShiftWarning`), once at the
        end of ``fit``, when the target's class proportions differ from the
        source's by more than this total variation (``0.5 * sum |p_t -
        p_s|``, between 0 and 1): plain DANN then risks aligning the wrong
        classes (Zhao et al., 2019). The estimate
        (:func:`~skdann.label_shift.check_label_shift`) comes from a
        logistic regression cross-fitted on the source rows before
        training, not from the network, so every seed gets the same answer.
        It is made only when ``adversarial_weight`` is not 0. The default
        threshold and estimator were chosen by
        ``benchmarks/label_shift_check.py`` leaving each data family out;
        its results give the hit rate (no estimator tells every label shift
        from covariate shift). ``None`` skips the estimate.

    Attributes
    ----------
    classes_ : ndarray of shape (n_classes,)
        Class labels seen in the source rows.
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string
        column names.
    n_domains_ : int
        Number of domains, source and target together (2 without
        ``sample_domain``; 1 without target rows).
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
        with early stopping, ``valid_loss``. With ``label_shift="iwdan"``
        every epoch also records ``target_class_proportions``,
        ``class_ratio`` and ``label_shift_tv``. Read a column with
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

    Inputs may be float64, integer, pandas or sparse; computation is in
    float32. Training rows are held on ``device`` for the whole fit: dense
    ones as ``n_rows * n_features * 4`` bytes, a CSR matrix as its non-zeros
    (each step reaches the built-in MLP as a sparse batch, which its first
    layer multiplies; a custom ``feature_extractor`` gets it densified).
    Prediction reads one chunk at a time.

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
        **BaseDANN._parameter_constraints,
        "class_weight": [None, dict, StrOptions({"balanced"})],
        "label_shift": [None, StrOptions({"iwdan"})],
        "label_shift_warning": [None, Interval(Real, 0, 1, closed="both")],
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
        learning_rate_init=0.01,
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
        objective="dann+mcc",
        class_weight=None,
        label_shift=None,
        label_shift_warning=0.12,
    ):
        super().__init__(
            hidden_layer_sizes=hidden_layer_sizes,
            activation=activation,
            dropout=dropout,
            alpha=alpha,
            domain_hidden_layer_sizes=domain_hidden_layer_sizes,
            adversarial_weight=adversarial_weight,
            adversarial_schedule=adversarial_schedule,
            learning_rate_init=learning_rate_init,
            learning_rate_schedule=learning_rate_schedule,
            solver=solver,
            momentum=momentum,
            batch_size=batch_size,
            max_iter=max_iter,
            tol=tol,
            early_stopping=early_stopping,
            validation_fraction=validation_fraction,
            n_iter_no_change=n_iter_no_change,
            feature_extractor=feature_extractor,
            device=device,
            random_state=random_state,
            verbose=verbose,
            callbacks=callbacks,
            multi_domain_head=multi_domain_head,
            objective=objective,
        )
        self.class_weight = class_weight
        self.label_shift = label_shift
        self.label_shift_warning = label_shift_warning

    def _check_targets(self, X, y):
        check_numeric_columns(X, "X")
        if y is not None:
            _refuse_missing_markers(y)
        return validate_data(
            self, X, y, accept_sparse="csr", dtype=np.float32, ensure_min_samples=1
        )

    def _target_mask(self, y):
        return target_mask(y)

    def _encode_targets(self, y_source, n_marked=0):
        check_classification_targets(y_source)
        classes, y_encoded = np.unique(y_source, return_inverse=True)
        if len(classes) < 2:
            hint = ""
            if n_marked:
                hint = (
                    f" The label -1 was read as the target marker on {n_marked} rows: "
                    "y == -1 marks unlabeled target rows. If -1 is one of your classes, "
                    "re-encode the labels first, e.g. with LabelEncoder or "
                    "y = (y == 1).astype(int)."
                )
            raise ValueError(
                f"The source labels contain only one class ({_label_repr(classes[0])}); "
                f"DANNClassifier needs at least two classes.{hint}"
            )
        self.classes_ = classes
        return y_encoded.astype(np.int64)

    def _class_weighted(self, source_weight, y_encoded):
        if self.class_weight is None:
            return source_weight
        class_weight = self.class_weight
        if isinstance(class_weight, dict):
            unknown = set(class_weight) - set(self.classes_.tolist())
            if unknown:
                raise ValueError(
                    f"class_weight names labels that are not among the source classes "
                    f"{self.classes_.tolist()}: {sorted(map(repr, unknown))}."
                )
        per_class = compute_class_weight(
            class_weight, classes=self.classes_, y=self.classes_[y_encoded]
        )
        bad = [
            (label, weight)
            for label, weight in zip(self.classes_.tolist(), per_class, strict=True)
            if not (np.isfinite(weight) and weight >= 0)
        ]
        if bad:
            label, weight = bad[0]
            raise ValueError(
                f"class_weight must hold finite, non-negative weights; class {label!r} has "
                f"{float(weight)!r}."
            )
        weights = per_class[y_encoded]
        if not (weights if source_weight is None else weights * source_weight).any():
            raise ValueError(
                "class_weight is zero for every class of the source rows: nothing to learn from."
            )
        return weights if source_weight is None else weights * source_weight

    def _extra_callbacks(self, seed, has_target):
        if not has_target or self.label_shift is None:
            return []
        estimator = ClassRatioEstimator(method="bbse", reweight=True, warn_above=None, seed=seed)
        return [("label_shift", estimator)]

    def _label_shift_check_wanted(self, plan):
        # lambda = 0 aligns nothing: the warning's advice (compare with lambda 0) is moot.
        aligned = callable(self.adversarial_weight) or self.adversarial_weight != 0
        has_target = plan.rows.is_target.any()
        return self.label_shift_warning is not None and aligned and bool(has_target)

    def _label_shift_check(self, plan):
        rows = plan.rows
        source = rows.labeled & ~rows.is_target
        source_labels = plan.y_encoded[~rows.is_target[rows.labeled]]
        X_source = rows.X[np.flatnonzero(source)]
        return check_label_shift(X_source, source_labels, rows.X[np.flatnonzero(rows.is_target)])

    def _label_shift_warning(self, plan, check):
        if check is None or not self._label_shift_check_wanted(plan):
            return None
        if check.total_variation <= self.label_shift_warning:
            return None
        source = np.round(check.source_proportions, 3).tolist()
        target = np.round(check.target_proportions, 3).tolist()
        advice = "" if self.label_shift == "iwdan" else 'try label_shift="iwdan" and '
        return LabelShiftWarning(
            f"The estimated class proportions of the target differ from the source's by "
            f"{check.total_variation:.2f} in total variation (above label_shift_warning="
            f"{self.label_shift_warning}): estimated target proportions {target} against the "
            f"source's {source} (skdann.label_shift.check_label_shift). Aligning features "
            f"under label shift can hurt; {advice}compare with adversarial_weight=0 (no "
            "alignment)."
        )

    def _stratify_labels(self, y_encoded, source_domain):
        return y_encoded * (int(source_domain.max()) + 1) + source_domain

    def _reweights_by_class(self):
        return self.label_shift == "iwdan"

    def _n_outputs(self):
        return len(self.classes_)

    def _label_criterion(self):
        return LabelLoss, {"loss": "cross_entropy"}

    def _predict_nonlinearity(self):
        return functools.partial(torch.softmax, dim=-1)

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
        return self._forward(X)

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
        # Reduced chunk by chunk: one index per row is kept, not every probability.
        index = self._forward(X, reduce=functools.partial(torch.argmax, dim=1))
        return self.classes_[index]

    score = LabeledScoreMixin.score  # not the mixin's: markers and labeled target rows count

    def _metric(self, y, y_pred, sample_weight):
        return accuracy_score(y, y_pred, sample_weight=sample_weight)


def _refuse_missing_markers(y):
    """NaN or None in a classifier's ``y``: say that classifiers mark target rows with -1."""
    y = np.asarray(y)
    if y.dtype.kind == "f":
        missing = np.isnan(y)
    elif y.dtype.kind == "O":
        missing = np.fromiter(
            (v is None or (isinstance(v, float) and np.isnan(v)) for v in y.ravel()),
            dtype=bool,
            count=y.size,
        )
    else:
        return
    if missing.any():
        raise ValueError(
            f"y contains {int(missing.sum())} missing labels (NaN or None); DANNClassifier "
            "marks target rows with -1 (NaN marks them for DANNRegressor only): set "
            "y[missing] = -1, or use stack_domains(X_source, y_source, X_target)."
        )


def _label_repr(label):
    return repr(label.item() if isinstance(label, np.generic) else label)
