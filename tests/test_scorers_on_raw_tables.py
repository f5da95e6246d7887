"""Every label-free scorer on a pipeline over raw mixed-type columns (strings and NaN)."""

import numpy as np
import pandas as pd
import pytest
from sklearn.compose import make_column_transformer
from sklearn.impute import SimpleImputer
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import OneHotEncoder, StandardScaler

from skdann import DANNClassifier, DANNRegressor, stack_domains
from skdann.metrics import (
    deep_embedded_validation_scorer,
    importance_weighted_scorer,
    information_maximization_scorer,
    prediction_entropy_scorer,
    recommended_scorer,
    reverse_validation_scorer,
    soft_neighborhood_density_scorer,
)

FAST = {"hidden_layer_sizes": (8,), "max_iter": 3, "batch_size": 16, "random_state": 0}
BOTH = [
    importance_weighted_scorer,
    deep_embedded_validation_scorer,
    reverse_validation_scorer,
    recommended_scorer,
]
SCORERS = {
    "classifier": [
        *BOTH,
        prediction_entropy_scorer,
        information_maximization_scorer,
        soft_neighborhood_density_scorer,
    ],
    "regressor": BOTH,
}


def _table(rng, n, shift):
    """Numbers with gaps, and a string column with gaps: what docs/tabular.rst feeds."""
    return pd.DataFrame(
        {
            "size": rng.normal(size=n) + shift,
            "weight": np.where(rng.rand(n) < 0.1, np.nan, rng.normal(size=n)),
            "colour": pd.Series(
                np.where(rng.rand(n) < 0.1, None, rng.choice(["red", "green"], size=n)),
                dtype=object,
            ),
        }
    )


def _pipeline(estimator):
    numeric = make_pipeline(SimpleImputer(strategy="median"), StandardScaler())
    categorical = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )
    pre = make_column_transformer((numeric, ["size", "weight"]), (categorical, ["colour"]))
    return make_pipeline(pre, estimator)


@pytest.fixture(scope="module", params=["classifier", "regressor"])
def fitted(request):
    rng = np.random.RandomState(0)
    source, target = _table(rng, 60, 0.0), _table(rng, 50, 1.0)
    if request.param == "classifier":
        y_source = (source["size"] > 0).astype(int).to_numpy()
        model = _pipeline(DANNClassifier(**FAST))
    else:
        y_source = 2.0 * source["size"].to_numpy() + rng.normal(size=60)
        model = _pipeline(DANNRegressor(**FAST))
    X, y = stack_domains(source, y_source, target, regression=request.param == "regressor")
    return request.param, model.fit(X, y), X, y


@pytest.mark.parametrize("name", sorted({s.__name__ for s in SCORERS["classifier"]}))
def test_a_scorer_works_on_raw_columns(fitted, name):
    kind, model, X, y = fitted
    scorers = {s.__name__: s for s in SCORERS[kind]}
    if name not in scorers:
        pytest.skip(f"{name} scores class probabilities (classifiers only)")
    assert np.isfinite(scorers[name](model, X, y))
