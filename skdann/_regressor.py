"""``DANNRegressor``: DANN with a regression head on standardised targets."""

from numbers import Real

import numpy as np
from sklearn.base import RegressorMixin
from sklearn.metrics import r2_score
from sklearn.utils._param_validation import Interval, StrOptions
from sklearn.utils.validation import validate_data

from ._base import BaseDANN
from ._docstrings import fill_parameters
from ._domains import check_numeric_columns, target_mask
from ._net import LabelLoss
from ._scoring import LabeledScoreMixin


@fill_parameters
class DANNRegressor(RegressorMixin, BaseDANN):
    """Domain-adversarial neural network regressor (DANN).

    Learns a regressor for an unlabeled *target* domain from labeled
    *source* rows and unlabeled target rows. The network and its training
    are those of :class:`DANNClassifier`; the label head outputs one value
    per target variable and is trained with a squared-error or Huber loss.
    Targets are standardised on the source rows inside ``fit`` (and
    predictions returned in the original units), so the balance between the
    label loss and the domain loss does not depend on the target's unit.

    Parameters
    ----------
    {shared_parameters}
    loss : {"squared_error", "huber"}, default="squared_error"
        Label loss on the standardised targets.
    huber_delta : float, default=1.0
        Threshold of the Huber loss, in standardised units (standard
        deviations of the source targets).

    Attributes
    ----------
    n_features_in_ : int
        Number of features seen during ``fit``.
    feature_names_in_ : ndarray of shape (`n_features_in_`,)
        Names of the features seen during ``fit``, when ``X`` has string
        column names.
    n_outputs_ : int
        Number of target variables.
    target_mean_, target_scale_ : ndarray of shape (n_outputs,)
        Mean and standard deviation of the source targets, used to
        standardise them (a constant target has scale 1).
    n_domains_ : int
        Number of domains, source and target together.
    n_iter_ : int
        Number of epochs run.
    net_ : skorch.NeuralNet
        The fitted net; ``net_.module_`` is the PyTorch module.
    history_ : skorch.History
        Per-epoch training record, as for :class:`DANNClassifier`; the label
        loss is on standardised targets.

    See Also
    --------
    DANNClassifier : The classifier.
    stack_domains : Build ``(X, y)`` with NaN on target rows (``regression=True``).

    Notes
    -----
    **Marking target rows.** In the stacked form ``fit(X, y)``, a NaN in
    ``y`` marks a target row (a row of NaN with several outputs); ``-1`` is
    an ordinary value. ``stack_domains(X_source, y_source, X_target,
    regression=True)`` builds that form. Infinite targets are rejected.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann import DANNRegressor
    >>> rng = np.random.RandomState(0)
    >>> X_source = rng.normal(size=(100, 3))
    >>> y_source = X_source @ [1.0, -2.0, 0.5]
    >>> X_target = rng.normal(size=(100, 3)) + 0.5
    >>> reg = DANNRegressor(max_iter=5, random_state=0)
    >>> reg.fit(X_source, y_source, X_target).predict(X_target[:3]).shape
    (3,)
    """

    _parameter_constraints: dict = {
        **BaseDANN._parameter_constraints,
        "loss": [StrOptions({"squared_error", "huber"})],
        "huber_delta": [Interval(Real, 0, None, closed="neither")],
    }

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
        loss="squared_error",
        huber_delta=1.0,
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
        self.loss = loss
        self.huber_delta = huber_delta

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.target_tags.multi_output = True
        return tags

    _private_fitted = (*BaseDANN._private_fitted, "_y_ndim")

    def _marker_name(self):
        return "NaN"

    def _check_targets(self, X, y):
        check_numeric_columns(X, "X")
        if y is None:
            raise ValueError(
                f"{type(self).__name__} requires y to be passed, but the target y is None."
            )
        y = np.asarray(y)
        if y.dtype.kind not in "biuf":
            try:
                y = y.astype(np.float64)
            except (TypeError, ValueError) as exc:
                raise ValueError(
                    f"DANNRegressor needs numeric targets; y has dtype {y.dtype}."
                ) from exc
        y = y.astype(np.float64)
        if y.ndim not in (1, 2):
            raise ValueError(
                f"y must be 1-D, or 2-D of shape (n_samples, n_outputs); got shape {y.shape}."
            )
        if np.isinf(y).any():
            raise ValueError(
                "y contains infinite values; only NaN is allowed in y, where it marks target rows."
            )
        missing = np.isnan(y)
        if missing.ndim == 2 and (missing.any(axis=1) & ~missing.all(axis=1)).any():
            raise ValueError(
                "y has rows where some outputs are NaN and others are not; NaN marks a "
                "target row only when all of its outputs are NaN."
            )
        X, y_filled = validate_data(
            self,
            X,
            np.where(missing, 0.0, y),
            accept_sparse="csr",
            dtype=np.float32,
            ensure_min_samples=1,
            multi_output=True,
            y_numeric=True,
        )
        if y_filled.ndim == 2 and y_filled.shape[1] == 1:
            missing = missing.reshape(y_filled.shape)
        return X, np.where(missing, np.nan, y_filled)

    def _target_mask(self, y):
        return target_mask(y, regression=True)

    def _encode_targets(self, y_source, n_marked=0):
        self._y_ndim = y_source.ndim
        y_2d = y_source.reshape(len(y_source), -1)
        self.n_outputs_ = y_2d.shape[1]
        # In units of each output's largest magnitude: sums and squares of targets
        # near the float limits (1e200, 1e-300) neither overflow nor underflow.
        unit = np.abs(y_2d).max(axis=0)
        unit = np.where(unit > 0, unit, 1.0)
        y_unit = y_2d / unit
        mean, scale = y_unit.mean(axis=0), y_unit.std(axis=0)
        self.target_mean_ = mean * unit
        self.target_scale_ = np.where(scale > 0, scale * unit, 1.0)  # a constant output: 1
        return ((y_unit - mean) / np.where(scale > 0, scale, 1.0)).astype(np.float32)

    def _n_outputs(self):
        return self.n_outputs_

    def _label_criterion(self):
        return LabelLoss, {"loss": self.loss, "huber_delta": self.huber_delta}

    def _predict_nonlinearity(self):
        return None

    def predict(self, X):
        """Predict targets, in the original units.

        Parameters
        ----------
        X : {array-like, sparse matrix} of shape (n_samples, n_features)
            Rows to predict.

        Returns
        -------
        ndarray of shape (n_samples,) or (n_samples, n_outputs)
            Predictions; 1-D when ``y`` was 1-D at ``fit``.
        """
        y = self._forward(X)
        y *= self.target_scale_
        y += self.target_mean_
        return y.ravel() if self._y_ndim == 1 else y

    score = LabeledScoreMixin.score  # not the mixin's: markers and labeled target rows count

    def _metric(self, y, y_pred, sample_weight):
        return r2_score(y, y_pred, sample_weight=sample_weight)
