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


@contextlib.contextmanager
def out_of_memory_hint(device, X_source, X_target, batch_size):
    """Re-raise a device out-of-memory error with the sizes involved and what to do."""
    try:
        yield
    except torch.OutOfMemoryError as exc:
        sizes = [f"source {_describe(X_source)}"]
        if X_target is not None:
            sizes.append(f"target {_describe(X_target)}")
        raise MemoryError(
            f"Out of memory on {device} while training. The training rows are held on the "
            f"device as float32 ({', '.join(sizes)}); batch_size={batch_size} rows per "
            "domain. Try a smaller batch_size or a smaller network, device='cpu', or "
            "fewer rows."
        ) from exc


def _describe(X):
    rows, columns = X.shape
    if hasattr(X, "nnz"):  # kept sparse: values, column indices and row pointers
        return f"{rows} x {columns} sparse, {X.nnz} non-zeros = {X.nnz * 12 / 2**20:.1f} MiB"
    return f"{rows} x {columns} = {rows * columns * 4 / 2**20:.1f} MiB"
