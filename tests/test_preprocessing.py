"""skdann.preprocessing.CategoryStrings: category text, and scikit-learn's checks."""

import numpy as np
import pandas as pd
import pytest
from sklearn.utils.estimator_checks import parametrize_with_checks

from skdann.preprocessing import CategoryStrings, category_text

# scikit-learn's generic checks compare outputs with numeric tolerances (a - b); text
# outputs are compared exactly in the tests below instead.
_TEXT_OUTPUT = "compares outputs numerically; CategoryStrings always returns text"
EXPECTED_FAILED = {
    name: _TEXT_OUTPUT
    for name in (
        "check_pipeline_consistency",
        "check_estimators_pickle",
        "check_transformer_data_not_an_array",
        "check_transformer_general",
        "check_methods_sample_order_invariance",
        "check_methods_subset_invariance",
        "check_fit_idempotent",
    )
}


@parametrize_with_checks([CategoryStrings()], expected_failed_checks=lambda _: EXPECTED_FAILED)
def test_sklearn_compatible_transformer(estimator, check):
    check(estimator)


def test_codes_whole_floats_text_and_missing_values_are_spelled_alike():
    frame = pd.DataFrame(
        {
            "code": pd.Series([3.0, np.nan, 2.0, 1e16]),
            "text": pd.Series(["3", None, "x", pd.NA], dtype=object),
            "flag": pd.Series([True, False, True, None], dtype=object),
            "rate": [2.5, 0.1, -1.0, np.inf],
        }
    )
    out = CategoryStrings().fit(frame).transform(frame)
    assert out[0].tolist() == ["3", "3", "True", "2.5"]
    assert pd.isna(out[1, 0]) and pd.isna(out[1, 1]) and out[1, 2:].tolist() == ["False", "0.1"]
    assert out[2].tolist() == ["2", "x", "True", "-1"]
    assert out[3].tolist()[0] == "1e+16" and pd.isna(out[3, 1]) and pd.isna(out[3, 2])
    assert out[3, 3] == "inf"
    np.testing.assert_array_equal(
        category_text(np.array([1, 2], dtype=np.int64)), np.array(["1", "2"], dtype=object)
    )


def test_a_new_table_must_have_the_fitted_columns():
    step = CategoryStrings().fit(pd.DataFrame({"a": [1], "b": ["x"]}))
    assert step.get_feature_names_out().tolist() == ["a", "b"]
    with pytest.raises(ValueError, match="Feature names"):
        step.transform(pd.DataFrame({"b": ["x"], "c": [1]}))
