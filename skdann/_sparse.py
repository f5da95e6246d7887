"""Sparse training rows that stay sparse on the device.

A CSR matrix is held as its three arrays (row pointers, column indices,
values) in torch tensors on the training device, so memory is O(nnz). A
training step gathers its rows either as a torch CSR tensor, for a network
whose first layer multiplies sparse rows (the built-in MLP's), or densified
into a ``(batch, n_features)`` float32 tensor, for any other network: the
network sees exactly the values that densifying the whole matrix would give,
one batch at a time.
"""

import warnings

import numpy as np
import torch


class SparseRows:
    """Rows of a CSR matrix on a device, densified a batch at a time.

    Parameters
    ----------
    X : scipy.sparse.csr_matrix or csr_array
        The rows; converted to float32 values and int64 indices.
    device : str or torch.device
        Where the arrays are held and batches are built.
    """

    def __init__(self, X, device):
        X = X.tocsr()
        X.sort_indices()
        self.crow = torch.as_tensor(X.indptr.astype(np.int64), device=device)
        self.col = torch.as_tensor(X.indices.astype(np.int64), device=device)
        self.values = torch.as_tensor(X.data.astype(np.float32), device=device)
        self.shape = X.shape
        self.device = self.values.device
        self.dtype = torch.float32

    def __len__(self):
        return self.shape[0]

    def __getitem__(self, rows):
        """Return the rows at ``rows`` (a 1-D int64 tensor) as a dense float32 tensor."""
        lengths, columns, values, row_of_entry = self._entries(rows)
        dense = torch.zeros(len(lengths), self.shape[1], dtype=self.dtype, device=self.device)
        if len(columns):
            dense[row_of_entry, columns] = values
        return dense

    def csr(self, rows):
        """Return the rows at ``rows`` (a 1-D int64 tensor) as a torch CSR tensor."""
        return stack_csr([self.gather(rows)], self.shape[1], self.device)

    def gather(self, rows):
        """Row lengths, column indices and values of the rows at ``rows`` (for stack_csr)."""
        return self._entries(rows)[:3]

    def _entries(self, rows):
        """Row lengths, column indices, values and the row of each entry, for ``rows``."""
        rows = torch.as_tensor(rows, device=self.device)
        starts = self.crow[rows]
        lengths = self.crow[rows + 1] - starts
        total = int(lengths.sum())
        row_of_entry = torch.repeat_interleave(
            torch.arange(len(rows), device=self.device), lengths, output_size=total
        )
        first_entry = torch.cumsum(lengths, 0) - lengths
        offset = torch.arange(total, device=self.device) - first_entry[row_of_entry]
        positions = starts[row_of_entry] + offset
        return lengths, self.col[positions], self.values[positions], row_of_entry


def stack_csr(parts, n_features, device):
    """One torch CSR tensor from ``(row lengths, columns, values)`` parts, stacked in order."""
    lengths = torch.cat([p[0] for p in parts])
    crow = torch.zeros(len(lengths) + 1, dtype=torch.int64, device=device)
    torch.cumsum(lengths, 0, out=crow[1:])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # "sparse CSR support is in beta state"
        return torch.sparse_csr_tensor(
            crow,
            torch.cat([p[1] for p in parts]),
            torch.cat([p[2] for p in parts]),
            size=(len(lengths), n_features),
        )
