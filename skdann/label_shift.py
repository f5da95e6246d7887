"""Label shift: estimate the target's class proportions, and reweight DANN for them.

When the class proportions differ between the domains, aligning the feature
distributions forces target rows of a frequent class onto source rows of
another class (Zhao et al., ICML 2019): plain DANN can then do worse than no
adaptation. Two standard estimators of the target's proportions from a
classifier's predictions, without target labels:

- ``"em"``: maximum likelihood by expectation-maximisation (Saerens et al.,
  2002): re-weight the predicted posteriors by the current proportion ratio,
  average them over the target rows, repeat. Needs roughly calibrated
  probabilities.
- ``"bbse"``: black-box shift estimation (Lipton et al., ICML 2018): solve
  ``C w = q`` with ``C`` the joint distribution of (prediction, label) on
  labeled source rows and ``q`` the distribution of predictions on the
  target. Needs an invertible confusion matrix, not calibration.

:class:`ClassRatioEstimator` re-estimates the proportions during training
(every epoch, as importance-weighted DANN does; Combes et al., NeurIPS 2020)
and, with ``reweight=True``, weights each source row's domain loss by the
ratio ``target / source`` of its class, so the domain head compares the
target with a source *re-balanced to the target's proportions*.
"""

from typing import NamedTuple

import numpy as np
import torch
from skorch.callbacks import Callback

from ._batches import DomainData
from ._inference import PREDICT_BATCH_SIZE, SequentialBatches, fill_by_chunks
from ._module import accepts_csr
from ._proportions import estimate_target_proportions, total_variation

__all__ = [
    "ClassRatioEstimator",
    "LabelShiftCheck",
    "LabelShiftWarning",
    "check_label_shift",
    "estimate_target_proportions",
    "total_variation",
]

# Rows of each domain used for an estimate during training (drawn once, fixed seed).
ESTIMATE_ROWS = 5000


class LabelShiftWarning(UserWarning):
    """The estimated class proportions of source and target differ a lot.

    The estimate (:func:`check_label_shift`: the mean of a cross-fitted
    logistic regression's probabilities on the target rows, made before
    training) is right under covariate shift when the model is well
    specified, and it under-states a pure label shift when the classes
    overlap. ``benchmarks/label_shift_check.py`` measures its hit rate: it
    missed real label shifts on weakly separable tables and fired on
    strong covariate shifts (digits). On your own data, compare with the
    class proportions you expect, and with ``adversarial_weight=0``.
    """


class LabelShiftCheck(NamedTuple):
    """What :func:`check_label_shift` found."""

    source_proportions: np.ndarray
    target_proportions: np.ndarray
    total_variation: float
    method: str


# How check_label_shift estimates by default; chosen by benchmarks/label_shift_check.py.
CHECK_METHOD = "mean"


def check_label_shift(
    X_source, y_source, X_target, *, method=CHECK_METHOD, random_state=0, max_rows=ESTIMATE_ROWS
):
    """Estimate how far the target's class proportions are from the source's.

    A standardised logistic regression is cross-fitted on the source rows
    (two halves, each predicting the other), so its probabilities on source
    rows are out of sample and roughly calibrated; the target's proportions
    are then estimated from its probabilities on the target rows. No network
    is involved, so the answer does not depend on a DANN fit's seed, and it
    is ready before training. This is the estimate behind
    :class:`DANNClassifier <skdann.DANNClassifier>`'s label-shift warning.

    Parameters
    ----------
    X_source : {array-like, sparse matrix} of shape (n_source, n_features)
        Labeled source rows (numbers; preprocess tables first).
    y_source : array-like of shape (n_source,)
        Their labels.
    X_target : {array-like, sparse matrix} of shape (n_target, n_features)
        Unlabeled target rows.
    method : {"mean", "em", "bbse"}, default="mean"
        ``"mean"``: the mean of the target probabilities (right under
        covariate shift, and it under-states a pure label shift);
        ``"em"`` and ``"bbse"``: :func:`estimate_target_proportions` (right
        under pure label shift, and covariate shift moves them). The default
        was chosen by ``benchmarks/label_shift_check.py``.
    random_state : int, default=0
        Seed of the halves and of the rows drawn when there are more than
        ``max_rows``.
    max_rows : int, default=5000
        Rows of each domain used at most.

    Returns
    -------
    LabelShiftCheck
        ``source_proportions`` (of all source rows, in the order of
        ``np.unique(y_source)``), ``target_proportions``, their
        ``total_variation`` and the ``method``.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann.label_shift import check_label_shift
    >>> rng = np.random.default_rng(0)
    >>> y = np.repeat([0, 1], 200)
    >>> X = rng.normal(size=(400, 2)) + 3 * y[:, None]
    >>> X_target = rng.normal(size=(200, 2)) + 3 * (np.arange(200) < 40)[:, None]
    >>> round(check_label_shift(X, y, X_target).total_variation, 1)
    0.3
    """
    from scipy import sparse
    from sklearn.linear_model import LogisticRegression
    from sklearn.model_selection import StratifiedKFold
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import StandardScaler

    if method not in ("mean", "em", "bbse"):
        raise ValueError(f'method must be "mean", "em" or "bbse", got {method!r}.')
    classes, labels = np.unique(np.asarray(y_source), return_inverse=True)
    if len(classes) < 2:
        raise ValueError("check_label_shift needs source rows of at least two classes.")
    source_prior = np.bincount(labels, minlength=len(classes)) / len(labels)
    rng = np.random.default_rng(random_state)
    rows = np.arange(X_source.shape[0])
    if len(rows) > max_rows:
        rows = np.sort(rng.choice(rows, max_rows, replace=False))
    X_s, labels_s = X_source[rows], labels[rows]
    if X_target.shape[0] > max_rows:
        X_target = X_target[np.sort(rng.choice(X_target.shape[0], max_rows, replace=False))]
    model = make_pipeline(
        StandardScaler(with_mean=not sparse.issparse(X_s)), LogisticRegression(max_iter=1000)
    )
    n_splits = min(2, int(np.bincount(labels_s, minlength=len(classes)).min()))
    source_proba = np.zeros((len(rows), len(classes)))
    target_proba = np.zeros((X_target.shape[0], len(classes)))
    if n_splits < 2:  # a class with one row: in-sample probabilities
        folds = [(np.arange(len(rows)), np.arange(len(rows)))]
    else:
        splitter = StratifiedKFold(n_splits, shuffle=True, random_state=random_state)
        folds = list(splitter.split(np.zeros(len(rows)), labels_s))
    for fit_rows, predict_rows in folds:
        fitted = model.fit(X_s[fit_rows], labels_s[fit_rows])
        columns = fitted.classes_
        source_proba[np.ix_(predict_rows, columns)] = fitted.predict_proba(X_s[predict_rows])
        target_proba[:, columns] += fitted.predict_proba(X_target) / len(folds)
    if method == "mean":
        target = target_proba.mean(axis=0)
    else:
        target = estimate_target_proportions(source_proba, labels_s, target_proba, method)
    return LabelShiftCheck(source_prior, target, total_variation(source_prior, target), method)


class ClassRatioEstimator(Callback):
    """skorch callback: estimate the target's class proportions during training.

    An estimate predicts (in evaluation mode) up to ``ESTIMATE_ROWS``
    source and target training rows, estimates the target's class
    proportions with :func:`estimate_target_proportions` and records
    ``target_class_proportions``, ``class_ratio`` (target / source
    proportion per class) and ``label_shift_tv`` (their total variation)
    in the history. With ``reweight=True`` it runs at the end of every
    epoch and the ratio weights each source row's domain loss in the next
    epoch (importance-weighted DANN; the first epoch runs unweighted);
    otherwise it runs once, at the end of the first epoch. At the end of
    training it warns when the first epoch's estimate passes
    ``warn_above``: under the Ganin schedule lambda is still small then,
    while later the alignment itself pulls the target's predictions
    towards the source's proportions and hides the shift. The source rows' predictions are
    in-sample (they are training rows), so the confusion matrix is more
    diagonal than on fresh rows: the estimate leans towards the mean
    prediction, i.e. it under-states the shift rather than inventing one.

    Parameters
    ----------
    method : {"bbse", "em"}, default="bbse"
        Estimator of the proportions. BBSE is the default here: the
        predictions of a network are over-confident, more so on its own
        training rows, and EM, which trusts the probabilities, can run away
        to a near one-class estimate on a balanced target (seen on Amazon
        reviews); BBSE only needs the confusion matrix to be invertible.
    reweight : bool, default=False
        Weight the source rows' domain loss by their class's ratio.
    warn_above : float or None, default=0.2
        Warn (:class:`LabelShiftWarning`) when the final estimate's total
        variation from the source proportions is above this; ``None``
        never warns. The warning is appended to ``pending_warnings_`` at the
        end of training, and the DANN estimators raise it from the user's
        ``fit`` call (raised inside a callback, it would point at skorch).
    seed : int, default=0
        Seed of the rows drawn for the estimates.
    """

    def __init__(self, method="bbse", reweight=False, warn_above=0.2, seed=0):
        self.method = method
        self.reweight = reweight
        self.warn_above = warn_above
        self.seed = seed

    def initialize(self):
        self.proportions_ = None
        self.tv_ = None
        self.first_tv_ = None
        self.first_proportions_ = None
        self.train_data_ = None
        self._rows = None
        self.pending_warnings_ = []
        return self

    def on_epoch_begin(self, net, dataset_train=None, **kwargs):
        self.train_data_ = dataset_train

    def on_epoch_end(self, net, **kwargs):
        if self.reweight or self.first_tv_ is None:
            self._estimate(net)
        if self.first_tv_ is None and self.tv_ is not None:
            self.first_tv_, self.first_proportions_ = self.tv_, self.proportions_

    def on_train_end(self, net, **kwargs):
        net.objective.class_ratio_ = None  # the fitted model keeps no training state
        self.train_data_ = None
        # The warning reads the first epoch's estimate: alignment itself pulls the target's
        # predictions towards the source's class proportions, so a plain DANN's last estimate
        # hides the shift (benchmarks/label_shift.py, Amazon thinned to 80% positive: 0.01
        # at the end of training where the true total variation is 0.30).
        self.tv_, self.proportions_ = self.first_tv_, self.first_proportions_
        if self.warn_above is not None and self.tv_ is not None and self.tv_ > self.warn_above:
            # Handed to the estimator, which warns from the user's fit call (warning here
            # would point at skorch's callback dispatch).
            self.pending_warnings_.append(
                LabelShiftWarning(
                    f"The estimated class proportions of the target differ from the source's "
                    f"by {self.tv_:.2f} in total variation (above label_shift_warning="
                    f"{self.warn_above}): estimated target proportions "
                    f"{np.round(self.proportions_, 3).tolist()}. Aligning features under label "
                    "shift can hurt; "
                    + ("" if self.reweight else 'try label_shift="iwdan" and ')
                    + "compare with adversarial_weight=0 (no alignment)."
                )
            )

    def _estimate(self, net):
        data = self.train_data_
        if data is None or data.n_domains <= data.n_source_domains:
            return
        source_rows, target_rows = self._estimate_rows(data)
        source_proba = _predict(net, data.X, source_rows)
        target_proba = _predict(net, data.X, target_rows)
        if not (np.isfinite(source_proba).all() and np.isfinite(target_proba).all()):
            return  # diverged weights: the divergence guard reports it at the end of training
        all_labels = data.y[torch.as_tensor(data.source_rows(), device=data.y.device)]
        all_labels = all_labels.cpu().numpy()
        n_classes = source_proba.shape[1]
        source_prior = np.bincount(all_labels, minlength=n_classes) / len(all_labels)
        source_labels = data.y[torch.as_tensor(source_rows, device=data.y.device)].cpu().numpy()
        proportions = estimate_target_proportions(
            source_proba, source_labels, target_proba, method=self.method
        )
        seen = source_prior > 0
        ratio = np.zeros(n_classes)
        ratio[seen] = proportions[seen] / source_prior[seen]
        self.proportions_ = proportions
        self.tv_ = total_variation(proportions, source_prior)
        net.history.record("target_class_proportions", proportions.round(6).tolist())
        net.history.record("class_ratio", ratio.round(6).tolist())
        net.history.record("label_shift_tv", self.tv_)
        if self.reweight:
            device = data.y.device
            net.objective.class_ratio_ = torch.as_tensor(ratio, dtype=torch.float32, device=device)

    def _estimate_rows(self, data):
        """Indices into ``data.X`` of the source and target rows the estimates predict."""
        if self._rows is None:
            rng = np.random.default_rng(self.seed)
            source = data.source_rows()
            target = np.setdiff1d(data.row_indices(), source)
            self._rows = tuple(
                np.sort(rng.choice(rows, min(len(rows), ESTIMATE_ROWS), replace=False))
                for rows in (source, target)
            )
        return self._rows


def _predict(net, X, rows):
    """Class probabilities of ``X[rows]``, in evaluation mode, in chunks."""
    module = net.module_
    was_training = module.training
    module.eval()
    # Sparse rows go to a network that multiplies them as CSR batches, never densified.
    batches = SequentialBatches(
        DomainData(X, rows=rows), PREDICT_BATCH_SIZE, net.device, accepts_csr(module)
    )
    outputs = (torch.softmax(module(chunk), dim=1) for chunk, _ in batches)
    try:
        return fill_by_chunks(outputs, len(rows))
    finally:
        if was_training:
            module.train()
