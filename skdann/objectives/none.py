"""No adaptation: the label loss alone (source-only, or S+T with target labels)."""

from ._base import Objective


class SourceOnly(Objective):
    """Train on the labeled rows only, with no domain head and no adaptation loss.

    With labeled target rows this is "S+T", the baseline every
    semi-supervised result is compared with; without, source-only training.
    Unlabeled target rows still pass through training steps (they cost
    time but add no loss), so the fit reads the same data as any objective.
    """

    def adaptation_loss(self, module, features, step):
        return None
