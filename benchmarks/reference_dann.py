"""A DANN written directly in PyTorch: the speed limit skdann is measured against.

Same network and protocol as ``DANNClassifier``'s defaults (Ganin schedules
updated every step, SGD with momentum, ``batch_size`` rows per domain, one
pass over the larger domain per epoch), with the data held in tensors on the
device and batches cut by indexing: no ``Dataset``, no ``DataLoader``, no
skorch.
"""

import math
import time

import torch
import torch.nn.functional as F
from torch import nn

from skdann import gradient_reversal


def build_networks(n_features, hidden, domain_hidden, n_classes):
    """Return (feature extractor, label head, domain head) as plain modules."""
    layers, width = [], n_features
    for size in hidden:
        layers += [nn.Linear(width, size), nn.ReLU()]
        width = size
    domain_layers, domain_width = [], width
    for size in domain_hidden:
        domain_layers += [nn.Linear(domain_width, size), nn.ReLU()]
        domain_width = size
    return (
        nn.Sequential(*layers),
        nn.Linear(width, n_classes),
        nn.Sequential(*domain_layers, nn.Linear(domain_width, 1)),
    )


def fit_reference(
    X_source,
    y_source,
    X_target,
    hidden,
    domain_hidden,
    batch_size,
    epochs,
    lr=0.05,
    weight=1.0,
    device="cpu",
    seed=0,
):
    """Train a DANN and return ``(networks, epoch_seconds)``.

    ``X_source``, ``y_source`` and ``X_target`` are tensors already on ``device``.
    """
    torch.manual_seed(seed)
    n_classes = int(y_source.max()) + 1
    extractor, label_head, domain_head = (
        m.to(device) for m in build_networks(X_source.shape[1], hidden, domain_hidden, n_classes)
    )
    params = [*extractor.parameters(), *label_head.parameters(), *domain_head.parameters()]
    optimizer = torch.optim.SGD(params, lr=lr, momentum=0.9, weight_decay=1e-4)
    n_source, n_target = len(X_source), len(X_target)
    n_rows = max(n_source, n_target)
    steps = math.ceil(n_rows / batch_size)
    total, step = steps * epochs, 0
    generator = torch.Generator().manual_seed(seed)

    def cycled(n):
        perms = [torch.randperm(n, generator=generator) for _ in range(math.ceil(n_rows / n))]
        return torch.cat(perms)[:n_rows].to(device)

    epoch_seconds = []
    for _ in range(epochs):
        start = time.perf_counter()
        source_idx, target_idx = cycled(n_source), cycled(n_target)
        for begin in range(0, n_rows, batch_size):
            p = step / total
            lam = weight * (2.0 / (1.0 + math.exp(-10 * p)) - 1.0)
            for group in optimizer.param_groups:
                group["lr"] = lr / (1 + 10 * p) ** 0.75
            s = source_idx[begin : begin + batch_size]
            t = target_idx[begin : begin + batch_size]
            features = extractor(torch.cat([X_source[s], X_target[t]]))
            class_logits = label_head(features[: len(s)])
            domain_logits = domain_head(gradient_reversal(features, lam)).squeeze(1)
            domain = torch.zeros_like(domain_logits)
            domain[len(s) :] = 1.0
            loss = F.cross_entropy(class_logits, y_source[s])
            loss = loss + F.binary_cross_entropy_with_logits(domain_logits, domain)
            optimizer.zero_grad()
            loss.backward()
            optimizer.step()
            loss.item()  # read the loss each step, as any training loop that logs it does
            step += 1
        if str(device).startswith("cuda"):
            torch.cuda.synchronize()
        epoch_seconds.append(time.perf_counter() - start)
    return (extractor, label_head, domain_head), epoch_seconds


def predict_reference(networks, X, batch_size=4096):
    """Class probabilities of ``X`` (a tensor on the networks' device)."""
    extractor, label_head, _ = networks
    extractor.eval()
    with torch.no_grad():
        out = [
            torch.softmax(label_head(extractor(X[i : i + batch_size])), dim=1).cpu()
            for i in range(0, len(X), batch_size)
        ]
    return torch.cat(out).numpy()
