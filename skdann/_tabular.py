"""Tables for the command line: reading, column typing and preprocessing.

The recipe: a column is *categorical* when its values are strings, booleans
or a pandas category in either file, or when ``--categorical`` names it;
every other column is *numeric*. Categorical values are turned into
strings (``3.0`` and ``3`` both become ``"3"``; missing stays missing), so
that both files, and files given later to ``predict``, encode them alike.
The preprocessor is a :class:`~sklearn.compose.ColumnTransformer`:
numeric columns are imputed with their median and standardised;
categorical columns are imputed with their most frequent value and one-hot
encoded, values seen fewer than :data:`MIN_FREQUENCY` times sharing one
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


def write_table(frame, path, stream):
    """Write ``frame`` to a CSV or Parquet file, or as CSV to ``stream`` when ``path`` is "-"."""
    if str(path) == "-":
        frame.to_csv(stream, index=False)
    elif Path(path).suffix.lower() in _PARQUET:
        _require_pyarrow(path)
        frame.to_parquet(path, index=False)
    else:
        frame.to_csv(path, index=False)


def predictions_frame(predictions, proba=None, classes=None):
    """Return ``prediction`` (``prediction_<i>`` per output) and ``proba_<class>`` columns."""
    predictions = np.asarray(predictions)
    if predictions.ndim == 1:
        frame = pd.DataFrame({"prediction": predictions})
    else:
        frame = pd.DataFrame({f"prediction_{i}": col for i, col in enumerate(predictions.T)})
    if proba is not None:
        for label, column in zip(classes, proba.T, strict=True):
            frame[f"proba_{label}"] = column
    return frame


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
    """Return a column as strings (object dtype), whole floats without ``.0``, NaN if missing."""
    present = column.notna()
    strings = pd.Series(np.nan, index=column.index, dtype=object)
    values = column[present]
    if pd.api.types.is_float_dtype(values):
        numbers = values.to_numpy(dtype=np.float64)
        whole = (numbers == np.round(numbers)) & (np.abs(numbers) < 2**53)
        text = numbers.astype(str).astype(object)
        text[whole] = numbers[whole].astype(np.int64).astype(str)
        strings[present] = text
    else:
        strings[present] = values.astype(str)
    return strings


def as_categories(frame, columns):
    """Return a copy of ``frame`` whose ``columns`` hold strings (object dtype) or NaN."""
    frame = frame.copy()
    for column in columns:
        frame[column] = category_strings(frame[column])
    return frame


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
        steps = make_pipeline(SimpleImputer(strategy="most_frequent"), encoder)
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


def categorical_columns(model):
    """Return the columns a fitted model's preprocessor treats as categorical."""
    first = model.steps[0][1] if isinstance(model, Pipeline) else None
    if not isinstance(first, ColumnTransformer):
        return []
    return [c for name, _, cols in first.transformers_ if name == "categorical" for c in cols]
