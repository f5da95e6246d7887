"""Property-based tests (hypothesis): invariants that must hold for any small input.

Every example is tiny (a few dozen rows, one or two epochs of a 4-unit network),
and each property runs a fixed, small number of derandomized examples, so the
file takes seconds and a failure reproduces on every run. ``database=None``:
no example database is kept (hypothesis still caches a little in a
``.hypothesis/`` folder, which it gitignores itself).
"""

import math
from unittest import mock

import numpy as np
import pandas as pd
import pytest
import scipy.sparse as sp
import torch
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis.extra import numpy as hnp
from skorch.callbacks import Callback

import skdann._net
from skdann import DANNClassifier, DANNRegressor, stack_domains, target_mask
from skdann._batches import BalancedDomainBatches
from skdann.objectives.dann import domain_labels
from skdann.schedules import ganin_adversarial_factor, ganin_learning_rate_factor
from tests._domain_data import domain_data


def _settings(max_examples):
    return settings(
        max_examples=max_examples,
        deadline=None,
        derandomize=True,
        database=None,
        suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture],
    )


TINY = {"hidden_layer_sizes": (4,), "domain_hidden_layer_sizes": (4,), "device": "cpu"}

# --- stack_domains ---------------------------------------------------------------------

# Label dtypes and the dtype stack_domains must give them (its Notes): -1 has to fit.
LABEL_DTYPES = {
    "int8": "int8",
    "int16": "int16",
    "int32": "int32",
    "int64": "int64",
    "float32": "float32",
    "float64": "float64",
    "bool": "int8",
    "uint8": "int16",
    "uint16": "int32",
    "uint32": "int64",
    "uint64": "int64",
}


def source_labels(kind, n):
    """Strategy: ``n`` labels of dtype ``kind``, none of them the target marker -1."""
    if kind == "str":
        text = st.text(alphabet="abcxyz-01", max_size=4).filter(lambda s: s != "-1")
        return st.lists(text, min_size=n, max_size=n).map(lambda v: np.array(v, dtype=str))
    dtype = np.dtype(kind)
    if dtype.kind == "f":
        elements = st.floats(-1e6, 1e6, allow_nan=False, width=8 * dtype.itemsize)
    elif dtype.kind == "b":
        elements = st.booleans()
    else:
        info = np.iinfo(dtype)
        elements = st.integers(int(info.min), min(int(info.max), np.iinfo(np.int64).max))
    return hnp.arrays(dtype, n, elements=elements.filter(lambda v: v != -1))


def _matrices(kind, rng, n_source, n_target, n_features):
    X_source = rng.normal(size=(n_source, n_features))
    X_target = rng.normal(size=(n_target, n_features)) + 1.0
    if kind == "frame":
        columns = [f"f{i}" for i in range(n_features)]
        return pd.DataFrame(X_source, columns=columns), pd.DataFrame(X_target, columns=columns)
    if kind == "csr":
        X_source[X_source < 0] = 0.0
        X_target[X_target < 1] = 0.0
        return sp.csr_matrix(X_source), sp.csr_matrix(X_target)
    return X_source, X_target


def _dense(X):
    if hasattr(X, "iloc"):
        return X.to_numpy()
    return X.toarray() if sp.issparse(X) else np.asarray(X)


@pytest.mark.parametrize("label_kind", [*LABEL_DTYPES, "str"])
@_settings(8)
@given(
    data=st.data(),
    n_source=st.integers(1, 8),
    n_target=st.integers(0, 6),
    n_features=st.integers(1, 4),
    kind=st.sampled_from(["array", "frame", "csr"]),
    seed=st.integers(0, 2**16),
)
def test_stack_domains_round_trips(label_kind, data, n_source, n_target, n_features, kind, seed):
    y_source = data.draw(source_labels(label_kind, n_source))
    rng = np.random.RandomState(seed)
    X_source, X_target = _matrices(kind, rng, n_source, n_target, n_features)
    X, y = stack_domains(X_source, y_source, X_target)

    assert type(X) is type(X_source)
    np.testing.assert_array_equal(_dense(X)[:n_source], _dense(X_source))
    np.testing.assert_array_equal(_dense(X)[n_source:], _dense(X_target))
    if kind == "frame":
        assert list(X.columns) == list(X_source.columns)
        pd.testing.assert_index_equal(X.index, pd.RangeIndex(n_source + n_target))
    np.testing.assert_array_equal(target_mask(y), np.arange(len(y)) >= n_source)
    if y_source.dtype.kind == "U":
        assert y.dtype.kind == "U"
        assert y[:n_source].tolist() == y_source.tolist()
        return
    assert y.dtype == np.dtype(LABEL_DTYPES[y_source.dtype.name])
    # The same values as Python numbers (False/True as 0/1): nothing wrapped or rounded.
    if y_source.dtype.kind == "f":
        assert y[:n_source].tolist() == y_source.tolist()
    else:
        assert y[:n_source].tolist() == [int(v) for v in y_source.tolist()]


@_settings(20)
@given(
    n_source=st.integers(1, 8),
    n_target=st.integers(0, 6),
    n_outputs=st.sampled_from([None, 1, 3]),
    kind=st.sampled_from(["array", "frame", "csr"]),
    integer=st.booleans(),
    seed=st.integers(0, 2**16),
)
def test_stack_domains_regression_marks_exactly_the_target_rows(
    n_source, n_target, n_outputs, kind, integer, seed
):
    rng = np.random.RandomState(seed)
    X_source, X_target = _matrices(kind, rng, n_source, n_target, 3)
    shape = (n_source,) if n_outputs is None else (n_source, n_outputs)
    y_source = rng.normal(scale=100, size=shape)
    if integer:
        y_source = np.round(y_source).astype(np.int32)
    X, y = stack_domains(X_source, y_source, X_target, regression=True)

    np.testing.assert_array_equal(_dense(X), np.vstack([_dense(X_source), _dense(X_target)]))
    assert y.dtype == np.float64 and y.shape == (n_source + n_target, *shape[1:])
    np.testing.assert_array_equal(y[:n_source], y_source.astype(np.float64))
    expected = np.arange(len(y)) >= n_source
    np.testing.assert_array_equal(target_mask(y, regression=True), expected)
    nan_rows = np.isnan(y).reshape(len(y), -1)
    np.testing.assert_array_equal(nan_rows.any(axis=1), expected)
    np.testing.assert_array_equal(nan_rows.all(axis=1), expected)


# --- training steps -------------------------------------------------------------------


@st.composite
def domain_layouts(draw):
    """Sizes of 1..4 source domains and 0..2 target domains, and a row order."""
    source_sizes = draw(st.lists(st.integers(1, 50), min_size=1, max_size=4))
    target_sizes = draw(st.lists(st.integers(1, 50), min_size=0, max_size=2))
    return source_sizes, target_sizes, draw(st.integers(0, 2**16))


def _interleaved_codes(sizes, rng):
    """Domain codes 0..k-1 with ``sizes[k]`` rows each, in a shuffled row order."""
    return rng.permutation(np.repeat(np.arange(len(sizes)), sizes))


@_settings(25)
@given(layout=domain_layouts(), batch_size=st.integers(1, 20), weighted=st.booleans())
def test_every_step_takes_batch_size_rows_from_every_domain(layout, batch_size, weighted):
    source_sizes, target_sizes, seed = layout
    rng = np.random.RandomState(seed)
    source_domain = _interleaved_codes(source_sizes, rng)
    target_domain = _interleaved_codes(target_sizes, rng)
    n_source, n_target = len(source_domain), len(target_domain)
    # Every row carries its own id and its domain: (row id, domain code).
    X_source = torch.tensor(np.c_[np.arange(n_source), source_domain], dtype=torch.float32)
    X_target = torch.tensor(
        np.c_[10_000 + np.arange(n_target), 100 + target_domain], dtype=torch.float32
    )
    data = domain_data(
        X_source,
        torch.arange(n_source),  # the label of a source row is its id
        X_target if n_target else None,
        source_domain,
        target_domain,
        torch.arange(n_source, dtype=torch.float32) + 1 if weighted else None,
        torch.arange(n_target, dtype=torch.float32) + 1 if weighted and n_target else None,
    )
    batches = BalancedDomainBatches(data, batch_size, torch.Generator().manual_seed(seed))
    steps = list(batches)

    k_source, k_target = len(source_sizes), len(target_sizes)
    n_steps = math.ceil(max(source_sizes + target_sizes) / batch_size)
    assert len(steps) == len(batches) == n_steps
    groups = [("source", k) for k in range(k_source)] + [("target", k) for k in range(k_target)]
    drawn = {group: [] for group in groups}
    for X_step, targets in steps:
        assert X_step.shape == (batch_size * len(groups), 2)
        assert targets.n_source == batch_size * k_source
        ids = X_step[:, 0].long()
        # Labels and weights belong to the step's source rows, in the same order.
        torch.testing.assert_close(targets.y, ids[: targets.n_source])
        if weighted:
            torch.testing.assert_close(targets.label_weight, ids[: targets.n_source] + 1.0)
        for index, (side, k) in enumerate(groups):
            block = X_step[index * batch_size : (index + 1) * batch_size]
            expected_code = k if side == "source" else 100 + k
            assert (block[:, 1] == expected_code).all(), (side, k)
            drawn[side, k] += block[:, 0].long().tolist()
        _check_domain_labels(targets, k_source, k_target, batch_size)

    n_draws = n_steps * batch_size
    for (side, k), ids in drawn.items():
        size = (source_sizes if side == "source" else target_sizes)[k]
        offset = 0 if side == "source" else 10_000
        codes = source_domain if side == "source" else target_domain
        domain_ids = offset + np.flatnonzero(codes == k)
        assert set(ids) <= set(domain_ids.tolist())
        counts = np.array([ids.count(i) for i in domain_ids])
        # Fresh permutations one after another: each row n_draws // size or one more time.
        assert counts.sum() == n_draws
        assert counts.min() >= n_draws // size and counts.max() <= -(-n_draws // size)
        if size == max(source_sizes + target_sizes):
            # One pass over the largest domain; the last step is topped up from the next
            # pass, so rows repeat only when batch_size does not divide its size.
            assert counts.min() == 1 and counts.max() == (1 if size % batch_size == 0 else 2)


def _check_domain_labels(targets, k_source, k_target, batch_size):
    assert targets.n_domains == k_source + k_target
    if k_target == 0:
        assert targets.domain_weight is None
        return
    per_domain = np.repeat(np.arange(k_source + k_target), batch_size)
    labels = domain_labels(
        targets.n_domains, batch_size, targets.n_source, torch.device("cpu"), torch.float32
    )
    if k_source + k_target == 2:
        labels, signs = labels
        np.testing.assert_array_equal(labels.numpy(), per_domain)
        np.testing.assert_array_equal(signs.numpy(), 2.0 * per_domain - 1.0)
    else:
        np.testing.assert_array_equal(labels.numpy(), per_domain)


# --- schedules ------------------------------------------------------------------------

progress = st.floats(0.0, 1.0)


@_settings(25)
@given(p=progress, q=progress, gamma=st.floats(0.1, 50.0))
def test_ganin_adversarial_factor_rises_from_0_and_stays_below_1(p, q, gamma):
    p, q = sorted([p, q])
    assert ganin_adversarial_factor(0.0, gamma) == 0.0
    assert 0.0 <= ganin_adversarial_factor(p, gamma) <= ganin_adversarial_factor(q, gamma) < 1.0


@_settings(25)
@given(p=progress, q=progress, alpha=st.floats(0.1, 50.0), beta=st.floats(0.1, 2.0))
def test_ganin_learning_rate_factor_falls_from_1_and_stays_positive(p, q, alpha, beta):
    p, q = sorted([p, q])
    assert ganin_learning_rate_factor(0.0, alpha, beta) == 1.0
    rate_p = ganin_learning_rate_factor(p, alpha, beta)
    assert 1.0 >= rate_p >= ganin_learning_rate_factor(q, alpha, beta) > 0.0


class LambdaProbe(Callback):
    """Record the gradient reversal layer's lambda after every training step."""

    def initialize(self):
        self.lambdas_ = []
        return self

    def on_batch_end(self, net, training=None, **kwargs):
        if training:
            self.lambdas_.append(net.module_.grl.lambda_)


@_settings(10)
@given(
    weight=st.floats(0.0, 3.0),
    schedule=st.sampled_from(["ganin", "constant"]),
    max_iter=st.integers(1, 2),
    batch_size=st.integers(4, 16),
    seed=st.integers(0, 100),
)
def test_adversarial_weight_in_force_stays_within_0_and_lambda(
    weight, schedule, max_iter, batch_size, seed
):
    rng = np.random.RandomState(seed)
    X_source, X_target = rng.normal(size=(20, 3)), rng.normal(size=(15, 3)) + 1.0
    clf = DANNClassifier(
        **TINY,
        adversarial_weight=weight,
        adversarial_schedule=schedule,
        max_iter=max_iter,
        batch_size=batch_size,
        random_state=seed,
        callbacks=[("probe", LambdaProbe())],
    ).fit(X_source, np.arange(20) % 2, X_target)
    lambdas = np.array(dict(clf.net_.callbacks_)["probe"].lambdas_)

    assert len(lambdas) == max_iter * math.ceil(20 / batch_size)
    assert ((lambdas >= 0.0) & (lambdas <= weight)).all()
    if schedule == "ganin":
        assert lambdas[0] == 0.0  # progress 0 at the first step
        assert (np.diff(lambdas) >= 0).all()
    else:
        assert (lambdas == weight).all()


# --- prediction -----------------------------------------------------------------------


@st.composite
def fitted_models(draw):
    """A tiny fitted classifier or regressor and some rows to predict."""
    regression = draw(st.booleans())
    seed = draw(st.integers(0, 1000))
    n_features = draw(st.integers(1, 4))
    rng = np.random.RandomState(seed)
    X_source = rng.normal(size=(24, n_features))
    X_target = rng.normal(size=(16, n_features)) + 0.5
    params = {**TINY, "max_iter": draw(st.integers(1, 2)), "random_state": seed}
    params["batch_size"] = draw(st.integers(2, 8))
    if regression:
        outputs = draw(st.sampled_from([(24,), (24, 2)]))
        model = DANNRegressor(**params).fit(X_source, rng.normal(size=outputs), X_target)
    else:
        model = DANNClassifier(**params).fit(X_source, rng.randint(0, 3, 24), X_target)
    X = rng.normal(size=(draw(st.integers(1, 30)), n_features))
    return model, X, rng


def _outputs(model, X):
    """Everything a fitted model computes per row, as float arrays."""
    outputs = {
        "predict": np.asarray(model.predict(X), dtype=float),
        "transform": model.transform(X),
    }
    if hasattr(model, "predict_proba"):
        outputs["predict_proba"] = model.predict_proba(X)
    return outputs


@_settings(10)
@given(fitted=fitted_models())
def test_predictions_do_not_depend_on_row_order(fitted):
    model, X, rng = fitted
    order = rng.permutation(len(X))
    expected, permuted = _outputs(model, X), _outputs(model, X[order])
    for name, output in expected.items():
        np.testing.assert_allclose(permuted[name], output[order], atol=1e-6, err_msg=name)


@_settings(10)
@given(fitted=fitted_models(), as_csr=st.booleans())
def test_predictions_do_not_depend_on_the_chunk_size(fitted, as_csr):
    model, X, _ = fitted
    if as_csr:
        X[np.abs(X) < 0.5] = 0.0
        X = sp.csr_matrix(X)
    at_once = _outputs(model, X)
    row_by_row = [_outputs(model, X[i : i + 1]) for i in range(X.shape[0])]
    # Inference reads max(batch_size, PREDICT_BATCH_SIZE) rows a chunk: with 1, it
    # reads batch_size rows a chunk, so one call spans several chunks.
    with mock.patch.object(skdann._net, "PREDICT_BATCH_SIZE", 1):
        in_chunks = _outputs(model, X)
    for name, output in at_once.items():
        np.testing.assert_allclose(
            np.vstack([r[name].reshape(1, -1) for r in row_by_row]),
            output.reshape(len(output), -1),
            atol=1e-5,
            err_msg=name,
        )
        np.testing.assert_allclose(in_chunks[name], output, atol=1e-5, err_msg=name)


# --- inputs are never modified ------------------------------------------------------------


class InPlaceDoubling(torch.nn.Module):
    """A feature extractor that doubles its input in place, to tempt fate."""

    def __init__(self, n_features):
        super().__init__()
        self.linear = torch.nn.Linear(n_features, 4)

    def forward(self, X):
        X.mul_(2.0)
        return self.linear(X)


def _convert(X, kind):
    if kind == "float32":
        return X.astype(np.float32)
    if kind == "frame":
        return pd.DataFrame(X, columns=[f"f{i}" for i in range(X.shape[1])])
    if kind == "csr":
        X = X.copy()
        X[np.abs(X) < 0.5] = 0.0
        return sp.csr_matrix(X)
    return X


def _snapshot(X):
    if sp.issparse(X):
        return X.copy()
    return X.copy(deep=True) if hasattr(X, "iloc") else X.copy()


def _assert_unchanged(X, before):
    if sp.issparse(X):
        for part in ("data", "indices", "indptr"):
            np.testing.assert_array_equal(getattr(X, part), getattr(before, part))
    elif hasattr(X, "iloc"):
        pd.testing.assert_frame_equal(X, before)
    else:
        assert X.dtype == before.dtype
        np.testing.assert_array_equal(X, before)


@_settings(12)
@given(
    kind=st.sampled_from(["float64", "float32", "frame", "csr"]),
    regression=st.booleans(),
    stacked=st.booleans(),
    in_place_extractor=st.booleans(),
    seed=st.integers(0, 1000),
)
def test_no_input_is_ever_modified(kind, regression, stacked, in_place_extractor, seed):
    rng = np.random.RandomState(seed)
    X_source = _convert(rng.normal(size=(20, 3)), kind)
    X_target = _convert(rng.normal(size=(12, 3)) + 0.5, kind)
    y_source = rng.normal(size=20) if regression else np.arange(20) % 2
    weights = rng.uniform(0.5, 2.0, size=32 if stacked else 20)
    inputs = [X_source, X_target, y_source, weights]
    before = [_snapshot(a) for a in inputs]

    X, y = stack_domains(X_source, y_source, X_target, regression=regression)
    stacked_before = [_snapshot(X), _snapshot(y)]
    params = {**TINY, "max_iter": 1, "batch_size": 8, "random_state": seed}
    if in_place_extractor:
        params["feature_extractor"] = InPlaceDoubling
    model = (DANNRegressor if regression else DANNClassifier)(**params)
    if stacked:
        domains = np.where(target_mask(y, regression=regression), -1, 1)
        domains_before = domains.copy()
        model.fit(X, y, sample_domain=domains, sample_weight=weights)
        np.testing.assert_array_equal(domains, domains_before)
    else:
        model.fit(X_source, y_source, X_target, sample_weight=weights)
    for X_rows in (X_source, X_target, X):
        model.predict(X_rows)
        model.transform(X_rows)
        if not regression:
            model.predict_proba(X_rows)
    model.score(X, y, sample_weight=np.ones(32))
    model.score(X_source, y_source)

    for value, copy in zip([*inputs, X, y], [*before, *stacked_before], strict=True):
        _assert_unchanged(value, copy)
