"""Reading rows in order, in chunks, for validation and inference.

An input is never converted to one large tensor at once: each chunk is
converted on its own (dense, or CSR for a network that takes sparse rows),
and each chunk's output is written into one array allocated up front.
"""

import math

import numpy as np
import scipy.sparse as sp
import torch

from ._batches import _device_of
from ._sparse import SparseRows, stack_csr

PREDICT_BATCH_SIZE = 4096


class SequentialBatches:
    """Read rows in order, in chunks, for validation and inference.

    ``X_source`` may be a tensor, a NumPy array or a sparse matrix: a chunk
    is converted on its own, so the whole input never is. Sparse chunks
    become torch CSR tensors when the network takes them (``csr=True``),
    dense ones otherwise. A chunk read from a NumPy array is copied, so a
    feature extractor that works in place never changes the caller's array.

    Parameters
    ----------
    data : DomainData
        Rows to read: ``X`` (at ``rows``, when set) and ``y``.
    batch_size : int
        Rows per chunk.
    device : str or torch.device
        Where chunks that are not already tensors are moved.
    csr : bool, default=False
        Hand sparse chunks over as torch CSR tensors.
    """

    def __init__(self, data, batch_size, device="cpu", csr=False):
        self.data = data
        self.batch_size = batch_size
        self.device = device
        self.csr = csr

    def __len__(self):
        return math.ceil(len(self.data) / self.batch_size)

    def __iter__(self):
        X, y, rows = self.data.X, self.data.y, self.data.rows
        for start in range(0, len(self.data), self.batch_size):
            stop = start + self.batch_size
            if rows is None:
                chunk = _chunk(X, start, stop, self.device, self.csr)
                yield chunk, None if y is None else y[start:stop]
                continue
            index = torch.as_tensor(rows[start:stop], device=_device_of(X))
            chunk = X.csr(index) if self.csr and isinstance(X, SparseRows) else X[index]
            yield chunk, None if y is None else y[index]


def _chunk(X, start, stop, device, csr=False):
    if torch.is_tensor(X):
        return X[start:stop]
    if isinstance(X, SparseRows):
        rows = torch.arange(start, min(stop, len(X)), device=X.device)
        return X.csr(rows) if csr else X[rows]
    chunk = X[start:stop]
    if sp.issparse(chunk) and csr:
        chunk = sp.csr_matrix(chunk)
        lengths = torch.as_tensor(np.diff(chunk.indptr).astype(np.int64), device=device)
        columns = torch.as_tensor(chunk.indices.astype(np.int64), device=device)
        values = torch.as_tensor(chunk.data.astype(np.float32), device=device)
        return stack_csr([(lengths, columns, values)], chunk.shape[1], device)
    chunk = chunk.toarray() if sp.issparse(chunk) else np.array(chunk, dtype=np.float32)
    return torch.from_numpy(np.asarray(chunk, dtype=np.float32)).to(device)


def fill_by_chunks(outputs, n_rows, transform=None, reduce=None, dtype=np.float64):
    """Write per-chunk output tensors, in row order, into one new ``(n_rows, ...)`` array."""
    result = None
    start = 0
    with torch.no_grad():
        for output in outputs:
            if transform is not None:
                output = transform(output)
            if reduce is not None:
                output = reduce(output)
            chunk = output.cpu().numpy()
            if result is None:
                kind = chunk.dtype if reduce is not None else dtype
                result = np.empty((n_rows, *chunk.shape[1:]), dtype=kind)
            result[start : start + len(chunk)] = chunk
            start += len(chunk)
    if result is None:  # no rows: validate_data refuses them, but stay total
        return np.empty((0,), dtype=dtype)
    return result
