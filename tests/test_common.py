"""scikit-learn's common estimator checks."""

import os

import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdann import DANNClassifier, DANNRegressor
from skdann.ensemble import GuardedAdaptationClassifier, GuardedAdaptationRegressor
from skdann.objectives import OBJECTIVES

# Checks expected to fail, each with its specific reason. The xfail marks are strict
# (``xfail_strict = true`` in pyproject.toml's pytest options; ``parametrize_with_checks``
# leaves ``strict`` to that option), so a check listed here that starts to pass fails the
# suite and its entry has to go.
EXPECTED_FAILED_CHECKS = {
    "check_classifiers_classes": (
        "Its last case trains on labels {-1, 1}; -1 marks unlabeled target rows "
        "(scikit-learn's SelfTrainingClassifier convention), so one class is left and "
        "fit raises. The string and integer label cases of the check pass (they run "
        "first)."
    ),
    "check_sample_weight_equivalence_on_dense_data": (
        "Training draws random minibatches of batch_size rows per domain: a row "
        "repeated twice is drawn twice per epoch and lengthens the epoch, so a weight "
        "of 2 equals repetition only in expectation, not in the fitted weights."
    ),
    "check_sample_weight_equivalence_on_sparse_data": (
        "Same reason as check_sample_weight_equivalence_on_dense_data."
    ),
}

REGRESSOR_EXPECTED_FAILED_CHECKS = {
    key: EXPECTED_FAILED_CHECKS[key]
    for key in (
        "check_sample_weight_equivalence_on_dense_data",
        "check_sample_weight_equivalence_on_sparse_data",
    )
}


def _expected_failed_checks(estimator):
    if isinstance(estimator, DANNRegressor):
        return REGRESSOR_EXPECTED_FAILED_CHECKS
    return EXPECTED_FAILED_CHECKS


# Every other objective of the classifier goes through the same checks (a smaller network,
# 10 epochs: they take about a minute each). The floors run (.ci/floors) checks DANN only.
OTHER_OBJECTIVES = (
    [] if os.environ.get("SKDANN_FLOORS") else [o for o in OBJECTIVES if o != "dann"]
)


@parametrize_with_checks(
    [
        DANNClassifier(max_iter=20, random_state=0),
        *(
            DANNClassifier(hidden_layer_sizes=(32,), max_iter=10, random_state=0, objective=o)
            for o in OTHER_OBJECTIVES
        ),
        # Three checks feed unscaled inputs (mean 100); regression gradients grow with
        # them, and SGD at the default rate diverges there (fit then raises its
        # divergence error, which tells to scale the inputs). Adam is scale-robust.
        DANNRegressor(max_iter=20, solver="adam", learning_rate_init=1e-3, random_state=0),
    ],
    expected_failed_checks=_expected_failed_checks,
)
def test_sklearn_compatible_estimator(estimator, check):
    name = getattr(check, "func", check).__name__
    if name != "check_methods_subset_invariance":
        check(estimator)
        return
    # Float32 matrix products take different kernels for different batch sizes: a row
    # predicted alone and within a batch differs by about 1.2e-7, right at the check's
    # atol of 1e-7, so it passes or fails with the CPU's kernels (predictions agree).
    # Not a strict xfail: it must not fail the suite on a CPU where it passes.
    try:
        check(estimator)
    except AssertionError as exc:
        pytest.xfail(f"float32 batch-size kernels, difference at the 1e-7 tolerance: {exc}")


def test_expected_failures_are_strict(request):
    # Without strict xfails, a listed check that passes again is only reported as XPASS.
    assert request.config.getini("xfail_strict") is True


@parametrize_with_checks(
    [
        # The baselines-only rule trains no DANN candidate: the checks stay fast. The
        # candidates' own checks are the DANN estimators' above.
        GuardedAdaptationClassifier(rule="average_baselines"),
        GuardedAdaptationRegressor(rule="average_baselines"),
    ],
    expected_failed_checks=lambda estimator: {
        key: EXPECTED_FAILED_CHECKS[key] for key in ("check_classifiers_classes",)
    },
)
@pytest.mark.filterwarnings("ignore:GuardedAdaptation.*got no target rows")
def test_guarded_estimators_are_sklearn_compatible(estimator, check):
    check(estimator)
