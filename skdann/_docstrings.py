"""Parameter documentation shared by the DANN estimators."""

import inspect

SHARED_PARAMETERS = """\
    hidden_layer_sizes : array-like of int or int, default=(100, 100)
        Hidden layers of the feature extractor MLP (ignored when
        ``feature_extractor`` is given). The label head is a linear layer on
        the last one.
    activation : {"relu", "tanh", "logistic", "identity"}, default="relu"
        Activation of the hidden layers of the feature extractor MLP and of
        the domain head.
    dropout : float, default=0.0
        Dropout probability after each hidden layer of the feature extractor
        MLP.
    alpha : float, default={alpha}
        L2 penalty, applied as weight decay to all parameters.
    domain_hidden_layer_sizes : array-like of int or int, default=(100,)
        Hidden layers of the domain head, which ends in a single logit
        trained with ``BCEWithLogitsLoss``. The paper uses one hidden layer
        of 100 units for small inputs; ``()`` gives a linear domain head.
    adversarial_weight : float, default=1.0
        Maximal weight ``lambda`` of the reversed domain gradient. 0 trains
        the same network source-only.
    adversarial_schedule : {"ganin", "constant"} or callable, default="ganin"
        How ``lambda`` evolves with training progress ``p`` in ``[0, 1]``:
        ``"ganin"`` ramps it up as ``adversarial_weight * (2 / (1 +
        exp(-10 p)) - 1)``; ``"constant"`` keeps ``adversarial_weight``; a
        callable ``f(p)`` gives ``adversarial_weight * f(p)``. Updated every
        step.
    learning_rate_init : float, default={learning_rate_init}
        Initial learning rate ``mu0`` (the paper uses 0.01 with its
        networks).
    learning_rate_schedule : {"ganin", "constant"} or callable, default="ganin"
        ``"ganin"`` anneals the learning rate as ``mu0 / (1 + 10 p) ** 0.75``;
        ``"constant"`` keeps it; a callable ``f(p)`` gives ``mu0 * f(p)``.
        Updated every step.
    solver : {"sgd", "adam"}, default="sgd"
        Optimizer. ``"sgd"`` uses ``momentum`` (0.9 in the paper).
    momentum : float, default=0.9
        Momentum of ``"sgd"``.
    batch_size : int, default=64
        Rows taken from **each** domain per step (so a step sees
        ``2 * batch_size`` rows when there are target rows).
    max_iter : int, default=100
        Maximal number of epochs. One epoch is one pass over the larger
        domain; the smaller domain cycles. The schedules run over
        ``max_iter`` epochs even when early stopping ends training sooner.
    tol : float, default=1e-4
        Minimal decrease of the held-out source loss that counts as an
        improvement for early stopping.
    early_stopping : bool, default=False
        Hold out ``validation_fraction`` of the source rows (stratified) and
        stop when their label loss has not improved for ``n_iter_no_change``
        epochs; the weights of the best epoch are restored. Target rows are
        never held out (they have no labels).
    validation_fraction : float, default=0.1
        Fraction of source rows held out for early stopping.
    n_iter_no_change : int, default=10
        Patience of early stopping, in epochs.
    feature_extractor : torch.nn.Module or callable, default=None
        Custom feature extractor (a CNN, say) replacing the MLP. Either a
        module, which is deep-copied at each ``fit`` so the one you pass is
        never trained, or a callable ``f(n_features_in_) -> nn.Module``. It
        receives float32 batches of shape ``(batch, n_features_in_)``
        (reshape images inside it) and must return a 2-D tensor; the heads
        are sized from its output.
    device : str or torch.device, default="auto"
        Where to train and predict. ``"auto"`` picks ``"cuda"`` when it is
        available, else ``"cpu"``.
    random_state : int, RandomState instance or None, default=None
        Seeds weight initialisation, dropout, shuffling and the early
        stopping split. With an int, fits on the CPU are reproducible.
    verbose : int, default=0
        1 prints one line per epoch (losses, domain accuracy, lambda,
        learning rate, time); 2 adds a progress bar over the steps of each
        epoch (needs ``tqdm``).
    callbacks : list of skorch callbacks or (name, callback) tuples, default=None
        Extra skorch callbacks, passed to the net. They are deep-copied at
        each ``fit``.
    multi_domain_head : {"softmax", "per_source"}, default="softmax"
        Domain head with more than two domains (``sample_domain``):
        ``"softmax"`` tells all domains apart with one softmax;
        ``"per_source"`` has one binary head per source domain, each telling
        that source from the (single) target domain. With two domains the
        head is always one logit.
    objective : str or skdann.objectives.Objective, default="{objective}"
        What the network learns from the target rows: ``"dann"`` (domain
        head behind a gradient reversal layer), ``"cdan"`` and ``"cdan+e"``
        (domain head conditioned on the class probabilities; classifiers
        only), ``"mcc"`` (minimum class confusion on the target's
        predictions; classifiers only), ``"dann+mcc"``, ``"cdan+mcc"``, or
        ``"none"`` (labeled rows only: source-only, or S+T with target
        labels). An instance of :mod:`skdann.objectives` sets its own
        parameters (searchable as ``objective__<param>``). The scheduled
        ``adversarial_weight`` is the weight of every objective's loss.

"""


def fill_parameters(cls):
    """Class decorator: put the shared parameters where ``{shared_parameters}`` stands.

    The defaults quoted for ``alpha``, ``learning_rate_init`` and
    ``objective`` are read from the class's ``__init__``, so the text cannot
    drift from the code.
    """
    defaults = {
        name: parameter.default
        for name, parameter in inspect.signature(cls.__init__).parameters.items()
        if name in ("alpha", "learning_rate_init", "objective")
    }
    text = SHARED_PARAMETERS
    for name, value in defaults.items():
        text = text.replace("{" + name + "}", f"{value:g}" if name != "objective" else value)
    cls.__doc__ = cls.__doc__.replace("    {shared_parameters}\n", text)
    return cls
