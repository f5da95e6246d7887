"""Which device to train on, and what to say when it runs out of memory."""

import contextlib

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


def check_fits_on_device(device, X_source, X_target, batch_size):
    """Raise ``MemoryError`` before copying training rows that a GPU cannot hold.

    The rows are held on the training device for the whole fit. On CUDA,
    their size is compared with the device's free memory before the copy,
    so a fit that cannot work fails at once with the sizes and what to do,
    instead of partway through. Other devices are left to the allocator
    (:func:`out_of_memory_hint` words its errors the same way).
    """
    if not str(device).startswith("cuda"):
        return
    needed = _nbytes(X_source) + (0 if X_target is None else _nbytes(X_target))
    free, total = torch.cuda.mem_get_info(torch.device(device))
    if needed > free:
        raise MemoryError(
            f"The training rows do not fit on {device}: they need {needed / 2**20:.1f} MiB as "
            f"float32 ({_sizes(X_source, X_target)}), and the device has "
            f"{free / 2**20:.1f} MiB free of {total / 2**20:.1f} MiB. {_ADVICE}"
        )


_ADVICE = (
    "Try device='cpu', fewer or sparser rows (a sparse matrix stays sparse on the device), "
    "a smaller batch_size or network, or free the device's memory."
)


@contextlib.contextmanager
def out_of_memory_hint(device, X_source, X_target, batch_size):
    """Re-raise a device out-of-memory error with the sizes involved and what to do."""
    try:
        yield
    except torch.OutOfMemoryError as exc:
        raise MemoryError(
            f"Out of memory on {device} while training. The training rows are held on the "
            f"device as float32 ({_sizes(X_source, X_target)}); batch_size={batch_size} rows "
            "per domain. Try a smaller batch_size or a smaller network, device='cpu', or "
            "fewer rows."
        ) from exc


def _sizes(X_source, X_target):
    sizes = [f"source {_describe(X_source)}"]
    if X_target is not None:
        sizes.append(f"target {_describe(X_target)}")
    return ", ".join(sizes)


def _nbytes(X):
    if hasattr(X, "nnz"):  # CSR: float32 values, int64 column indices and row pointers
        return X.nnz * 12 + (X.shape[0] + 1) * 8
    return X.shape[0] * X.shape[1] * 4


def _describe(X):
    rows, columns = X.shape
    if hasattr(X, "nnz"):  # kept sparse: values, column indices and row pointers
        return f"{rows} x {columns} sparse, {X.nnz} non-zeros = {X.nnz * 12 / 2**20:.1f} MiB"
    return f"{rows} x {columns} = {rows * columns * 4 / 2**20:.1f} MiB"
