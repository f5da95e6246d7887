"""Run a block with a given number of PyTorch CPU threads, then restore the previous one."""

import contextlib

import torch


@contextlib.contextmanager
def torch_threads(n):
    """Float sums, and so trained networks, depend on the thread count: fix it for a block."""
    previous = torch.get_num_threads()
    torch.set_num_threads(n)
    try:
        yield
    finally:
        torch.set_num_threads(previous)
