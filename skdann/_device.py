"""Which device to train on, and what to say when it runs out of memory."""

import contextlib

import numpy as np
import torch


def resolve_device(device):
    """Return the device to use as a string, after checking that it exists here.

    ``"auto"`` picks ``"cuda"`` when CUDA is available, else ``"cpu"``.
    """
    name = str(device)
    if name == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    try:
        parsed = torch.device(name)
    except (RuntimeError, ValueError) as exc:
        raise ValueError(
            f"device={name!r} is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'."
        ) from exc
    if parsed.type == "cuda":
        if not torch.cuda.is_available():
            raise ValueError(
                f"device={name!r}, but CUDA is not available on this machine "
                "(torch.cuda.is_available() is False); use device='cpu' or 'auto'."
            )
        if parsed.index is not None and parsed.index >= torch.cuda.device_count():
            raise ValueError(
                f"device={name!r}, but this machine has {torch.cuda.device_count()} CUDA "
                "device(s)."
            )
    elif parsed.type == "mps" and not torch.backends.mps.is_available():
        raise ValueError(f"device={name!r}, but MPS is not available on this machine.")
    return name


def check_fits_on_device(device, X, is_target):
    """Raise ``MemoryError`` before copying training rows that a GPU cannot hold.

    The rows are held on the training device for the whole fit. On CUDA,
    their size is compared with the device's free memory before the copy,
    so a fit that cannot work fails at once with the sizes and what to do,
    instead of partway through. Other devices are left to the allocator
    (:func:`out_of_memory_hint` words its errors the same way).
    """
    if not str(device).startswith("cuda"):
        return
    needed = sum(_nbytes(X, rows) for rows in _sides(is_target))
    free, total = torch.cuda.mem_get_info(torch.device(device))
    if needed > free:
        raise MemoryError(
            f"The training rows do not fit on {device}: they need {needed / 2**20:.1f} MiB as "
            f"float32 ({_sizes(X, is_target)}), and the device has "
            f"{free / 2**20:.1f} MiB free of {total / 2**20:.1f} MiB. {_ADVICE}"
        )


_ADVICE = (
    "Try device='cpu', fewer or sparser rows (a sparse matrix stays sparse on the device), "
    "a smaller batch_size or network, or free the device's memory."
)


@contextlib.contextmanager
def out_of_memory_hint(device, X, is_target, batch_size):
    """Re-raise a device out-of-memory error with the sizes involved and what to do."""
    try:
        yield
    except torch.OutOfMemoryError as exc:
        raise MemoryError(
            f"Out of memory on {device} while training. The training rows are held on the "
            f"device as float32 ({_sizes(X, is_target)}); batch_size={batch_size} rows "
            "per domain. Try a smaller batch_size or a smaller network, device='cpu', or "
            "fewer rows."
        ) from exc


def _sides(is_target):
    """Row masks of the source side and, if any, the target side."""
    return [~is_target, is_target] if is_target.any() else [~is_target]


def _sizes(X, is_target):
    sides = zip(("source", "target"), _sides(is_target), strict=False)
    return ", ".join(f"{name} {_describe(X, rows)}" for name, rows in sides)


def _nnz(X, rows):
    return int(np.diff(X.indptr)[rows].sum())


def _nbytes(X, rows):
    n_rows = int(rows.sum())
    if hasattr(X, "nnz"):  # CSR: float32 values, int64 column indices and row pointers
        return _nnz(X, rows) * 12 + (n_rows + 1) * 8
    return n_rows * X.shape[1] * 4


def _describe(X, rows):
    n_rows, columns = int(rows.sum()), X.shape[1]
    if hasattr(X, "nnz"):  # kept sparse: values, column indices and row pointers
        nnz = _nnz(X, rows)
        return f"{n_rows} x {columns} sparse, {nnz} non-zeros = {nnz * 12 / 2**20:.1f} MiB"
    return f"{n_rows} x {columns} = {n_rows * columns * 4 / 2**20:.1f} MiB"
