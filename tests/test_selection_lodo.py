"""The leave-one-dataset-out rule of benchmarks/selection_lodo.py, on runs with known answers."""

import pytest

from benchmarks import selection_lodo


def _run(tests, **selector_scores):
    """One run: grid points with their test scores and each selector's scores."""
    return [
        ((float(i), (100, 100)), {name: scores[i] for name, scores in selector_scores.items()}, t)
        for i, t in enumerate(tests)
    ]


def test_rule_is_chosen_on_the_other_datasets_and_scored_on_the_held_out_one():
    # "good" picks the best point on A and B and a bad one on C; "fair" is a little off
    # everywhere. Held out C, the rule sees A and B, picks "good", and pays on C.
    tests = [0.5, 0.6, 0.7]
    datasets = {
        "A": [_run(tests, good=[0, 1, 2], fair=[0, 2, 1])],
        "B": [_run(tests, good=[0, 1, 2], fair=[0, 2, 1])],
        "C": [_run(tests, good=[2, 1, 0], fair=[0, 2, 1])],
    }
    records = {r["held_out"]: r for r in selection_lodo.leave_one_dataset_out(datasets)}
    assert records["C"]["chosen"] == "good"
    assert records["C"]["held_out_mean_regret"] == pytest.approx(0.2)
    # Held out A (or B), the others include C, where "good" regrets 0.2: "fair" (0.1) wins.
    assert records["A"]["chosen"] == "fair"
    assert records["A"]["held_out_mean_regret"] == pytest.approx(0.1)
    assert records["A"]["worst_case_regret_on_others"] == pytest.approx(0.1)


def test_regret_of_fixed_points_and_mean_rank_aggregates():
    run = _run([0.9, 0.5, 0.7], a=[3, 2, 1], b=[1, 3, 2])
    assert selection_lodo.regrets([run], "a")[0] == pytest.approx(0.0)
    assert selection_lodo.regrets([run], "b")[0] == pytest.approx(0.4)
    # Mean ranks: point 0 (1 + 3) / 2 = 2, point 1 (2 + 1) / 2 = 1.5, point 2 (3 + 2) / 2 = 2.5.
    assert selection_lodo.pick(run, ("a", "b")) == 1
    fixed = [((1.0, (100, 100)), {}, 0.6), ((0.0, (100, 100)), {}, 0.8)]
    assert selection_lodo.regrets([fixed], "default")[0] == pytest.approx(0.2)
    assert selection_lodo.regrets([fixed], "source_only")[0] == pytest.approx(0.0)


def test_candidates_are_the_selectors_every_run_has():
    datasets = {
        "A": [_run([0.1, 0.2], prediction_entropy=[0, 1], deep_embedded_validation=[1, 0])],
        "B": [_run([0.1, 0.2], prediction_entropy=[0, 1])],
    }
    assert selection_lodo.candidates(datasets) == ["prediction_entropy"]
