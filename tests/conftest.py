"""Shared seeded fixtures: small shifted data sets."""

from pathlib import Path

import numpy as np
import pytest
import torch

SHARED_DATA = Path(__file__).resolve().parents[1].parent / "shared" / "data"


@pytest.fixture(autouse=True)
def _seeded():
    torch.manual_seed(0)


@pytest.fixture
def shifted_blobs():
    """Two Gaussian classes; the target domain is the source shifted by (1, 1)."""
    rng = np.random.RandomState(0)
    n = 60
    y_source = np.repeat([0, 1], n // 2)
    X_source = rng.normal(size=(n, 4)) + 2.0 * y_source[:, None]
    y_target = np.repeat([0, 1], n // 2)
    X_target = rng.normal(size=(n, 4)) + 2.0 * y_target[:, None] + 1.0
    return X_source, y_source, X_target, y_target


def rotated_moons(n=150, angle=35.0, seed=0):
    """The JMLR toy: two moons, target rotated by ``angle`` degrees."""
    from sklearn.datasets import make_moons

    X_source, y_source = make_moons(n, noise=0.1, random_state=seed)
    X_target, y_target = make_moons(n, noise=0.1, random_state=seed + 1)
    theta = np.deg2rad(angle)
    rotation = np.array([[np.cos(theta), -np.sin(theta)], [np.sin(theta), np.cos(theta)]])
    return X_source, y_source, X_target @ rotation.T, y_target
