import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp

from skdann import stack_domains, target_mask


def test_numeric_labels_keep_their_dtype():
    X, y = stack_domains(np.zeros((3, 2)), np.array([0, 1, 2], dtype=np.int32), np.ones((2, 2)))
    assert X.shape == (5, 2) and y.dtype == np.int32
    np.testing.assert_array_equal(y, [0, 1, 2, -1, -1])
    np.testing.assert_array_equal(target_mask(y), [False, False, False, True, True])


def test_float_and_object_labels():
    _, y = stack_domains(np.zeros((2, 1)), np.array([0.0, 1.0]), np.zeros((1, 1)))
    np.testing.assert_array_equal(target_mask(y), [False, False, True])
    _, y = stack_domains(np.zeros((2, 1)), np.array([(1,), 2], dtype=object), np.zeros((1, 1)))
    assert y.dtype == object
    np.testing.assert_array_equal(target_mask(y), [False, False, True])


def test_dataframes_and_sparse_matrices_are_stacked_as_such():
    frame = pd.DataFrame({"a": [1.0, 2.0], "b": [3.0, 4.0]}, index=[10, 11])
    X, _ = stack_domains(frame, [0, 1], frame)
    assert isinstance(X, pd.DataFrame) and list(X.columns) == ["a", "b"]
    assert list(X.index) == [0, 1, 2, 3]
    X, _ = stack_domains(sp.csr_matrix(np.eye(2)), [0, 1], sp.csr_matrix(np.eye(2)))
    assert sp.issparse(X) and X.shape == (4, 2)


def test_errors_name_the_problem():
    with pytest.raises(ValueError, match="X_source has 3 rows but y_source has 2 labels"):
        stack_domains(np.zeros((3, 2)), [0, 1], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="X_target has 3 features, but X_source has 2"):
        stack_domains(np.zeros((2, 2)), [0, 1], np.zeros((1, 3)))
    with pytest.raises(ValueError, match="y_source contains the label -1"):
        stack_domains(np.zeros((2, 2)), [-1, 1], np.zeros((1, 2)))
    with pytest.raises(ValueError, match="y_source must be 1-D"):
        stack_domains(np.zeros((2, 2)), [[0], [1]], np.zeros((1, 2)))
