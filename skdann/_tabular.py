"""Tables for the command line: reading, column typing and preprocessing.

The recipe: a column is *categorical* when its values are strings, booleans
or a pandas category in either file, or when ``--categorical`` names it;
every other column is *numeric*. The preprocessor is a
:class:`~sklearn.compose.ColumnTransformer`, saved in the model file:
numeric columns are imputed with their median and standardised;
categorical columns are turned into text by
:class:`~skdann.preprocessing.CategoryStrings` (``3.0`` and ``3`` both
become ``"3"``; missing stays missing, so both files, and files given later
to ``predict``, encode them alike), imputed with their most frequent value
and one-hot encoded, values seen fewer than :data:`MIN_FREQUENCY` times sharing one
"infrequent" column (which also takes values never seen in training).
"""

from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.compose import ColumnTransformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import Pipeline, make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from ._domains import first_text_row
from .preprocessing import CategoryStrings, category_text

MIN_FREQUENCY = 10
"""Values of a categorical column seen fewer times are grouped as infrequent."""

MAX_CLASSES = 20
"""An integer label with at most this many distinct values means classification."""

_PARQUET = (".parquet", ".pq")


def read_table(path, encoding="utf-8"):
    """Read a CSV file, or a Parquet file (``.parquet``/``.pq``, needs pyarrow).

    A CSV file read as a single column whose header holds ``;``, a tab or
    ``|`` is read again with that delimiter (sniffed from the header).
    """
    path = Path(path)
    if not path.is_file():
        raise ValueError(f"{path}: no such file.")
    if path.suffix.lower() in _PARQUET:
        _require_pyarrow(path)
        frame = pd.read_parquet(path)
    else:
        frame = _read_csv(path, encoding)
    if len(frame) == 0:
        raise ValueError(f"{path} has no rows.")
    return frame


def _read_csv(path, encoding, sep=","):
    try:
        frame = pd.read_csv(path, encoding=encoding, sep=sep)
    except pd.errors.EmptyDataError as exc:
        raise ValueError(f"{path} is empty.") from exc
    except UnicodeDecodeError as exc:
        raise ValueError(
            f"{path} is not {encoding} text (it holds the byte {exc.object[exc.start :][:1]!r}); "
            "give its encoding, e.g. --encoding latin-1 or --encoding cp1252."
        ) from exc
    except LookupError as exc:
        raise ValueError(f"--encoding {encoding!r} is not a known text encoding.") from exc
    except pd.errors.ParserError as exc:
        raise ValueError(f"{path} is not a well-formed CSV file: {exc}") from exc
    if sep == "," and frame.shape[1] == 1:
        header = str(frame.columns[0])
        for delimiter in (";", "\t", "|"):
            if delimiter in header:
                return _read_csv(path, encoding, delimiter)
    return frame


def write_table(frame, path, stream, float_format=None):
    """Write ``frame`` to a CSV or Parquet file, or as CSV to ``stream`` when ``path`` is "-".

    ``float_format`` (printf style, e.g. ``"%.6g"``) formats a CSV's floats;
    Parquet keeps every digit.
    """
    if float_format is not None:
        try:
            float_format % 0.5
        except (TypeError, ValueError) as exc:
            raise ValueError(
                f"--float-format {float_format!r} is not a printf-style float format such as "
                "%.6g or %.3f."
            ) from exc
    if str(path) == "-":
        frame.to_csv(stream, index=False, float_format=float_format)
    elif Path(path).suffix.lower() in _PARQUET:
        _require_pyarrow(path)
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False, float_format=float_format)


def predictions_frame(predictions, proba=None, classes=None, ids=None):
    """Return the row ids, ``prediction`` (``prediction_<i>`` per output) and ``proba_<class>``.

    ``ids`` is a named Series (the user's id column, or the input's index
    named ``row``) that becomes the first column.
    """
    predictions = np.asarray(predictions)
    if predictions.ndim == 1:
        columns = {"prediction": predictions}
    else:
        columns = {f"prediction_{i}": col for i, col in enumerate(predictions.T)}
    if proba is not None:
        for label, column in zip(classes, proba.T, strict=True):
            columns[f"proba_{label}"] = column
    if ids is None:
        return pd.DataFrame(columns)
    if ids.name in columns:
        raise ValueError(f"the id column {ids.name!r} has the name of an output column.")
    return pd.DataFrame({ids.name: ids.to_numpy(), **columns})


def _require_pyarrow(path):
    try:
        import pyarrow  # noqa: F401
    except ImportError as exc:
        raise ImportError(f"Parquet files ({path}) need pyarrow: pip install pyarrow.") from exc


def infer_task(labels):
    """Return "classification" or "regression" for a label column.

    Strings, booleans and categories mean classification; so do numbers
    that are all whole with at most :data:`MAX_CLASSES` distinct values.
    Other numbers mean regression.
    """
    if not _is_numeric(labels):
        return "classification"
    values = labels.dropna().to_numpy(dtype=np.float64)
    whole = np.all(values == np.round(values))
    return "classification" if whole and len(np.unique(values)) <= MAX_CLASSES else "regression"


def label_values(labels, task, name):
    """Return the label column as an array for ``fit``/``score``; no missing labels."""
    n_missing = int(labels.isna().sum())
    if n_missing:
        raise ValueError(f"the label column {name!r} has {n_missing} missing values.")
    if task == "regression":
        if not _is_numeric(labels):
            raise ValueError(
                f"the label column {name!r} is not numeric; use --task classification."
            )
        return labels.to_numpy(dtype=np.float64)
    if not _is_numeric(labels):
        return category_strings(labels).to_numpy(dtype=str)
    values = labels.to_numpy()
    if values.dtype.kind == "f" and np.all(values == np.round(values)):
        return values.astype(np.int64)
    return values


def split_columns(source, target, categorical=()):
    """Return the numeric and the categorical columns of two tables with the same columns."""
    unknown = [c for c in categorical if c not in source.columns]
    if unknown:
        raise ValueError(f"--categorical names columns that are not in the data: {unknown}.")
    forced = set(categorical)
    is_categorical = {
        c: c in forced or not (_is_numeric(source[c]) and _is_numeric(target[c]))
        for c in source.columns
    }
    numeric = [c for c in source.columns if not is_categorical[c]]
    return numeric, [c for c in source.columns if is_categorical[c]]


def _is_numeric(column):
    return pd.api.types.is_numeric_dtype(column) and not pd.api.types.is_bool_dtype(column)


def category_strings(column):
    """Return a column as category text (object dtype), NaN where missing.

    The same spelling as :class:`~skdann.preprocessing.CategoryStrings`:
    whole floats without ``.0``, so integer codes match across files.
    """
    return pd.Series(category_text(column.to_numpy(dtype=object)), index=column.index)


def make_preprocessor(numeric, categorical):
    """Return the unfitted :class:`~sklearn.compose.ColumnTransformer` of the recipe."""
    transformers = []
    if numeric:
        steps = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
        transformers.append(("numeric", steps, list(numeric)))
    if categorical:
        encoder = OneHotEncoder(
            handle_unknown="infrequent_if_exist",
            min_frequency=MIN_FREQUENCY,
            sparse_output=False,
        )
        # CategoryStrings is inside the saved model: the CLI and Python feed it the raw table.
        steps = make_pipeline(CategoryStrings(), SimpleImputer(strategy="most_frequent"), encoder)
        transformers.append(("categorical", steps, list(categorical)))
    return ColumnTransformer(transformers)


def numeric_columns(model):
    """Return the columns a fitted model's preprocessor treats as numeric."""
    first = model.steps[0][1] if isinstance(model, Pipeline) else None
    if not isinstance(first, ColumnTransformer):
        return []
    return [c for name, _, cols in first.transformers_ if name == "numeric" for c in cols]


def check_numeric(frame, columns, path):
    """Name the first numeric column of ``frame`` that holds text, with its row and value."""
    for column in columns:
        if column not in frame.columns or _is_numeric(frame[column]):
            continue
        values = frame[column]
        row = first_text_row(values)
        if row is not None:
            raise ValueError(
                f"{path}: column {column!r} was numeric at fit but holds the text "
                f"{values.iloc[row]!r} (data row {row + 1}); fix or blank that value."
            )
