"""Preprocessing that belongs inside a saved model: categories as text.

A categorical column can arrive as numbers in one file and as text in
another (``3``, ``3.0`` and ``"3"``; integer codes read as floats once a
value is missing). :class:`CategoryStrings` writes every value as the same
text, so that an encoder fitted on one file recognises the categories of the
next. It is a step of the pipeline ``skdann fit`` builds, so the command
line and Python apply exactly the same preprocessing to a table, and
:func:`skdann.io.load` accepts it in a model file's preprocessing.
"""

import numbers

import numpy as np
from sklearn.base import BaseEstimator, OneToOneFeatureMixin, TransformerMixin
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["CategoryStrings", "category_text"]


def category_text(values):
    """Return ``values`` as category text: an object array of str, NaN where missing.

    Whole numbers lose their ``.0`` (``3.0`` and ``3`` both give ``"3"``, up
    to 2**53), other floats give their shortest repr (``"2.5"``), booleans
    ``"True"``/``"False"``, anything else ``str(value)``. ``None``, NaN and
    pandas' missing markers stay missing (NaN).

    Parameters
    ----------
    values : array-like
        Any shape; read as an object array.

    Returns
    -------
    ndarray of object
        Same shape as ``values``.
    """
    values = np.asarray(values, dtype=object)
    text = np.empty(values.shape, dtype=object)
    for index, value in np.ndenumerate(values):
        text[index] = _as_text(value)
    return text


def _as_text(value):
    if value is None or _is_missing(value):
        return np.nan
    if isinstance(value, (bool, np.bool_)):
        return str(bool(value))
    if isinstance(value, numbers.Integral):
        return str(int(value))
    if isinstance(value, numbers.Real):
        number = float(value)
        return str(int(number)) if number.is_integer() and abs(number) < 2**53 else str(number)
    return str(value)


def _is_missing(value):
    try:
        return bool(value != value)  # NaN and pandas.NaT
    except TypeError:  # pandas.NA refuses bool()
        return True


class CategoryStrings(OneToOneFeatureMixin, TransformerMixin, BaseEstimator):
    """Write every value of the columns as category text (see :func:`category_text`).

    Put it before an imputer and a
    :class:`~sklearn.preprocessing.OneHotEncoder` in the categorical branch
    of a :class:`~sklearn.compose.ColumnTransformer`, so that integer codes,
    whole floats and text spell each category the same way in every file.
    Stateless: ``fit`` only records the input's width and column names.

    Attributes
    ----------
    n_features_in_ : int
        Number of columns seen in ``fit``.
    feature_names_in_ : ndarray of str
        Column names seen in ``fit``, when ``X`` had string column names.

    Examples
    --------
    >>> import numpy as np
    >>> from skdann.preprocessing import CategoryStrings
    >>> CategoryStrings().fit_transform(np.array([[3.0], [np.nan], [2.5]], dtype=object))
    array([['3'],
           [nan],
           ['2.5']], dtype=object)
    """

    def fit(self, X, y=None):
        """Record the number and names of the columns of ``X``.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The categorical columns.
        y : None
            Ignored.

        Returns
        -------
        self : object
        """
        validate_data(self, X, dtype=None, ensure_all_finite=False)
        return self

    def transform(self, X):
        """Return the columns of ``X`` as category text.

        Parameters
        ----------
        X : array-like of shape (n_samples, n_features)
            The categorical columns (the ones seen in ``fit``).

        Returns
        -------
        ndarray of object, shape (n_samples, n_features)
            Strings, NaN where a value is missing.
        """
        check_is_fitted(self)
        X = validate_data(self, X, dtype=None, ensure_all_finite=False, reset=False)
        return category_text(X)

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.input_tags.allow_nan = True
        tags.input_tags.string = True
        tags.transformer_tags.preserves_dtype = []  # always text (object)
        return tags
