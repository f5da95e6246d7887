"""scikit-learn's common estimator checks."""

from sklearn.utils.estimator_checks import parametrize_with_checks

from skdann import DANNClassifier

# Checks expected to fail, each with its specific reason.
EXPECTED_FAILED_CHECKS = {
    "check_classifiers_classes": (
        "Its last case trains on labels {-1, 1}; -1 marks unlabeled target rows "
        "(scikit-learn's SelfTrainingClassifier convention), so one class is left and "
        "fit raises. The string and integer label cases of the check pass (they run "
        "first)."
    ),
    "check_methods_subset_invariance": (
        "Float32 matrix products take different kernels for different batch sizes, so "
        "probabilities of a row predicted alone and within a batch differ by about "
        "2e-7, above the check's atol of 1e-7 (predictions agree)."
    ),
}


@parametrize_with_checks(
    [DANNClassifier(max_iter=20, random_state=0)],
    expected_failed_checks=lambda est: EXPECTED_FAILED_CHECKS,
)
def test_sklearn_compatible_estimator(estimator, check):
    check(estimator)
