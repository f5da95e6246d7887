"""Several validators at once: the candidate with the best mean rank."""

import numpy as np
from scipy.stats import rankdata


def mean_rank_refit(scoring):
    """``GridSearchCV`` refit rule: the candidate whose mean rank over several scorers is best.

    Each label-free validator fails in its own way (entropy on confident
    mistakes, SND on collapse, importance weighting on disjoint supports);
    ranking the candidates by each and averaging the ranks keeps one
    validator's failure from deciding alone. Use it with a dict of scorers::

        GridSearchCV(
            pipe, grid, cv=DomainStratifiedKFold(3),
            scoring={"infomax": information_maximization_scorer,
                     "snd": soft_neighborhood_density_scorer},
            refit=mean_rank_refit(["infomax", "snd"]),
        )

    Ties in mean rank go to the first candidate, as ``GridSearchCV`` breaks
    ties. With a callable ``refit``, ``GridSearchCV`` sets ``best_index_``
    and ``best_params_`` but no ``best_score_``.

    Parameters
    ----------
    scoring : list of str
        Names of the search's scorers to rank by (keys of its ``scoring``
        dict); higher scores rank first.

    Returns
    -------
    callable
        ``best_index(cv_results) -> int``, for ``GridSearchCV(refit=...)``.
    """
    names = list(scoring)
    if not names:
        raise ValueError("mean_rank_refit needs at least one scorer name.")

    def best_mean_rank(cv_results):
        mean = mean_ranks([cv_results[f"mean_test_{name}"] for name in names])
        return int(np.flatnonzero(mean == mean.min())[0])

    best_mean_rank.__name__ = f"mean_rank_of_{'_'.join(names)}"
    return best_mean_rank


def mean_ranks(score_lists):
    """Mean over validators of each candidate's rank (1 = highest score; ties averaged)."""
    scores = np.asarray(score_lists, dtype=float)
    scores = np.where(np.isfinite(scores), scores, -np.inf)  # a failed score ranks last
    return np.mean([rankdata(-row, method="average") for row in scores], axis=0)
