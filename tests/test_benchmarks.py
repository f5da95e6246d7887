"""Every benchmark runs with ``--quick``, so none of them rots."""

import json
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
DATA = ROOT.parent / "shared" / "data"


def _run_quick(name):
    done = subprocess.run(
        [sys.executable, "-m", f"benchmarks.{name}", "--quick"],
        cwd=ROOT,
        capture_output=True,
        text=True,
        check=False,
        timeout=600,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((ROOT / "benchmarks" / "results" / f"{name}_quick.json").read_text())


@pytest.mark.slow
def test_throughput_quick():
    records = _run_quick("throughput")
    assert records[0]["record"] == "machine"
    speed = [r for r in records[1:] if "samples_per_s" in r and "method" in r]
    assert {"skdann", "reference"} <= {r["method"] for r in speed}
    for r in speed:
        assert r["samples_per_s"] > 0 and r["seconds"] > 0 and r["peak_rss_mb"] > 0
    # The sparse part: dense and CSR input both train; on Amazon the CSR product and the
    # dense layer give the same model up to float rounding.
    zipf = [r for r in records if r.get("task", "").startswith("zipf")]
    assert {r["method"] for r in zipf} == {"dense", "sparse"}
    assert all(r["train_rows_per_s"] > 0 for r in zipf)
    for r in [r for r in records if r.get("dataset") == "amazon"]:
        assert abs(r["accuracy_sparse"] - r["accuracy_dense"]) <= 0.01
        assert r["max_abs_proba_difference"] < 1e-3
    # The memory part: fit and memory-mapped prediction were measured.
    fits = [r for r in records if "fit_adds_mib" in r]
    (predict,) = [r for r in records if "anon_peak_mib" in r]
    assert len(fits) == 2  # as is, and with glibc's mmap threshold fixed
    assert all(f["peak_rss_during_fit_mib"] >= f["rss_before_fit_mib"] > 0 for f in fits)
    assert predict["anon_peak_mib"] > 0 and predict["rows_per_s"] > 0


@pytest.mark.slow
def test_step_options_quick():
    records = _run_quick("step_options")
    variants = {r["method"] for r in records[1:]}
    assert variants == {"reference", "skdann", "skorch_loop", "foreach", "compile"}
    assert all(r["ms_per_step"] > 0 for r in records[1:])


@pytest.mark.slow
def test_grid_search_scale_quick():
    pytest.importorskip("distributed")
    records = _run_quick("grid_search_scale")
    assert [r["method"] for r in records[1:]] == [
        "sequential",
        "loky, 2 workers",
        "dask, 1 workers",
        "dask, 2 workers",
    ]
    # Every backend trains the same models (one thread per fit) and picks the same point.
    assert all(r["same_best_params"] for r in records[1:])
    assert all(r["max_score_difference"] < 1e-6 for r in records[1:])


@pytest.mark.slow
def test_accuracy_quick():
    if not DATA.exists():
        pytest.skip(f"benchmark data not found at {DATA}")
    records = _run_quick("accuracy")
    datasets = {r["dataset"] for r in records[1:]}
    assert datasets == {"amazon", "office", "mnist_usps", "coil", "moons"}
    methods = {r["method"] for r in records[1:]}
    assert {"logreg", "source_only", "dann", "dann_oracle", "dann_cnn"} <= methods
    assert all(0.0 <= r["target_accuracy"] <= 1.0 for r in records[1:])


@pytest.mark.slow
def test_model_selection_quick():
    if not DATA.exists():
        pytest.skip(f"benchmark data not found at {DATA}")
    records = _run_quick("model_selection")
    assert {r["dataset"] for r in records[1:]} == {
        "amazon",
        "office",
        "mnist_usps",
        "coil",
        "moons",
    }
    selections = [r for r in records[1:] if r["method"].startswith("selected_by_")]
    assert {r["method"] for r in selections} == {
        "selected_by_source_accuracy",
        "selected_by_reverse_validation",
        "selected_by_importance_weighted",
        "selected_by_deep_embedded_validation",
        "selected_by_prediction_entropy",
        "selected_by_information_maximization",
        "selected_by_soft_neighborhood_density",
    }
    points = [r for r in records[1:] if r["method"] == "grid_point"]
    for run in {(r["task"], r["seed"]) for r in points}:
        mine = [r for r in points if (r["task"], r["seed"]) == run]
        assert len(mine) == 2  # the quick grid: lambda 0 and 1
        best = max(r["target_accuracy"] for r in mine)
        for r in selections + [r for r in records[1:] if r["method"] == "best_grid_point"]:
            if (r["task"], r["seed"]) != run:
                continue
            # Every pick is one of the run's grid points, scored against the best of them.
            picked = [
                p for p in mine if p["adversarial_weight"] == r["picked"]["adversarial_weight"]
            ]
            assert picked and r["target_accuracy"] == picked[0]["target_accuracy"]
            assert r["regret"] == pytest.approx(best - r["target_accuracy"])
    # Each selector picks the first grid point with its highest score (GridSearchCV's rule).
    for r in selections:
        run = [p for p in points if (p["task"], p["seed"]) == (r["task"], r["seed"])]
        scores = [p["scores"][r["method"].removeprefix("selected_by_")] for p in run]
        first_best = run[scores.index(max(scores))]
        assert r["picked"]["adversarial_weight"] == first_best["adversarial_weight"]


@pytest.mark.slow
def test_tabular_quick():
    if not DATA.exists():
        pytest.skip(f"benchmark data not found at {DATA}")
    records = _run_quick("tabular")[1:]
    assert {(r["task"], r["metric"]) for r in records} == {
        ("wine_clf_red_white", "accuracy"),
        ("wine_reg_white_red", "r2"),
    }
    methods = {r["method"] for r in records}
    assert methods == {"logreg", "hgb", "source_only", "dann", "oracle", "iwdan", "grid_point"}
    for task in ("wine_clf_red_white", "wine_reg_white_red"):
        points = [r for r in records if r["task"] == task and r["method"] == "grid_point"]
        assert len(points) == 8  # lambda {0, 0.1, 0.3, 1} x 2 widths
        # source_only, dann and oracle are read off the grid.
        by = {r["method"]: r["score"] for r in records if r["task"] == task and "score" in r}
        assert by["oracle"] == max(p["test_score"] for p in points)
        assert by["dann"] in {p["test_score"] for p in points}
        validators = set(points[0]["scores"])
        assert {"source_score", "importance_weighted", "deep_embedded_validation"} <= validators
    clf_point = next(
        r for r in records if r["method"] == "grid_point" and r["metric"] == "accuracy"
    )
    assert "information_maximization" in clf_point["scores"]
    assert 0.5 <= clf_point["test_mean_confidence"] <= 1.0


@pytest.mark.slow
def test_table_defaults_quick():
    if not DATA.exists():
        pytest.skip(f"benchmark data not found at {DATA}")
    records = [r for r in _run_quick("table_defaults")[1:] if "score" in r]
    assert len(records) == 12  # 2 tasks x alpha {1e-4, 1e-3, 1e-2} x lr {0.01, 0.05}
    assert {(r["alpha"], r["learning_rate_init"]) for r in records} == {
        (a, lr) for a in (1e-4, 1e-3, 1e-2) for lr in (0.01, 0.05)
    }


@pytest.mark.slow
def test_batched_quick():
    if not DATA.exists():
        pytest.skip(f"benchmark data not found at {DATA}")
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.batched", "--quick", "--tasks", "adult",
         "--parts", "search", "curve"],
        cwd=ROOT, capture_output=True, text=True, check=False,
    )  # fmt: skip
    assert done.returncode == 0, done.stderr[-3000:]
    path = ROOT / "benchmarks" / "results" / "batched_quick.json"
    records = json.loads(path.read_text())[1:]
    searches = [r for r in records if r["record"] == "search"]
    assert {r["method"] for r in searches} == {
        "grid_n_jobs_1", "grid_n_jobs_2", "batched_1_thread", "batched_2_threads"
    }  # fmt: skip
    # Every search trained the same candidates and picked the same best point.
    assert len({json.dumps(r["best_params"], sort_keys=True) for r in searches}) == 1
    curve = [r for r in records if r["record"] == "curve"]
    for fixed in (False, True):  # each fit once more with glibc's mmap threshold fixed
        assert sorted(
            (r["K"], r["own_seeds"]) for r in curve if r["fixed_mmap_threshold"] == fixed
        ) == [(0, False), (1, False), (4, False), (16, False), (16, True), (64, False)]


def test_table_defaults_rule_is_chosen_on_the_other_families():
    from benchmarks import table_defaults

    good, bad = (1e-4, 0.05), (1e-2, 0.01)
    scores = {p: 0.5 for p in [(a, lr) for a in (1e-4, 1e-3, 1e-2) for lr in (0.01, 0.05)]}
    runs = {
        "A": [{**scores, good: 0.9}],
        "B": [{**scores, good: 0.9}],
        "C": [{**scores, bad: 0.9}],
    }
    result = {r["held_out"]: r for r in table_defaults.lodo(runs)}
    assert result["C"]["pick"] == {"alpha": 1e-4, "learning_rate_init": 0.05}
    assert result["C"]["held_out_regret"] == pytest.approx(0.4)
    assert result["C"]["default_regret"] == pytest.approx(0.4)


def _guarded_tasks(dann_gains):
    """Tasks with two baselines at 0.80 / 0.70 and a DANN rule ``gain`` above their average."""
    tasks = {}
    for i, gain in enumerate(dann_gains):
        seed = {"logreg": 0.80, "hgb": 0.70, "rule:average_baselines@0": 0.75}
        seed["rule:average@0"] = 0.75 + gain
        tasks[f"t{i}"] = {"family": f"f{i}", "seeds": {0: seed}}
    return tasks


def test_guarded_rule_lets_dann_in_only_on_evidence():
    from benchmarks import guarded

    rules = ["average_baselines@0", "average@0"]
    # better on the mean, but one task carries it: no evidence, the baselines' rule
    noisy = _guarded_tasks([0.10, -0.02, -0.02, -0.02, -0.02, -0.01])
    assert guarded.choose(noisy, rules, "accuracy", evidence=False) == "average@0"
    assert guarded.choose(noisy, rules, "accuracy") == "average_baselines@0"
    # better on every task: the DANN rule
    steady = _guarded_tasks([0.02, 0.03, 0.02, 0.025, 0.03, 0.02])
    assert guarded.choose(steady, rules, "accuracy") == "average@0"
    # the held-out family's tasks are not read: without f0 the noisy tasks lose outright
    assert guarded.choose(noisy, rules, "accuracy", left_out="f0", evidence=False) == (
        "average_baselines@0"
    )


@pytest.mark.slow
def test_package_defaults_quick():
    if not DATA.exists():
        pytest.skip(f"benchmark data not found at {DATA}")
    records = _run_quick("package_defaults")[1:]
    lodo = [r for r in records if r["record"] == "lodo_family"]
    # office, coil, amazon, mnist_usps and one wine table: each family held out once
    assert {r["held_out"] for r in lodo} == {"office", "coil", "amazon", "mnist_usps", "wine"}
    kinds = [r for r in records if r["record"] == "lodo_kind"]
    assert {r["held_out"] for r in kinds} == {"vectors", "text", "images", "tables"}
    assert {r["held_out"] for r in records if r["record"] == "several_sources"} == {
        "beijing",
        "office",
    }


def test_package_defaults_pick_is_chosen_on_the_other_families():
    from benchmarks import package_defaults

    grid = package_defaults.points(regression=False)
    good, default = ("dann+mcc", 0.3, 1e-2, 0.01), package_defaults.DEFAULT

    def run(best):
        return [(p, {}, 0.9 if p == best else 0.5) for p in grid]

    datasets = {"A": [run(good)], "B": [run(good)], "C": [run(default)]}
    result = {
        r["held_out"]: r
        for r in package_defaults.held_out_table(datasets, [("point", p) for p in grid])
    }
    assert tuple(result["C"]["pick"]) == good  # chosen on A and B only
    assert result["C"]["pick_regret"] == pytest.approx(0.4)
    assert result["C"]["default_regret"] == pytest.approx(0.0)
    assert result["A"]["default_regret"] == pytest.approx(0.4)


@pytest.mark.slow
def test_domain_invariance_quick():
    if not DATA.exists():
        pytest.skip(f"benchmark data not found at {DATA}")
    records = _run_quick("domain_invariance")
    assert {r["dataset"] for r in records[1:]} == {"amazon", "office", "mnist_usps"}
    assert {r["adversarial_weight"] for r in records[1:]} == {0.0, 1.0}
    for r in records[1:]:
        for key in ("pad_inputs", "pad_features", "pad_own_head"):
            assert 0.0 <= r[key] <= 2.0


@pytest.mark.slow
def test_objectives_quick():
    if not DATA.exists():
        pytest.skip(f"benchmark data not found at {DATA}")
    records = _run_quick("objectives")
    unsupervised = [r for r in records[1:] if r["labels_per_class"] == 0]
    few = [r for r in records[1:] if r["labels_per_class"] > 0]
    assert {r["objective"] for r in unsupervised} == {
        "none", "dann", "cdan", "cdan+e", "mcc", "dann+mcc"
    }  # fmt: skip
    assert {r["objective"] for r in few} == {"none", "dann", "cdan", "mcc"}
    assert all(0.0 <= r["target_accuracy"] <= 1.0 for r in records[1:])


def test_objectives_leave_one_dataset_out_never_reads_the_held_out_dataset():
    from benchmarks.objectives import leave_one_dataset_out

    means = {
        "A": {"dann": 0.80, "mcc": 0.90},
        "B": {"dann": 0.70, "mcc": 0.75},
        "C": {"dann": 0.90, "mcc": 0.10},  # MCC fails here only
    }
    rows = {r["held_out"]: r for r in leave_one_dataset_out(means, ["dann", "mcc"], "dann")}
    # Held out C, MCC wins on A and B and is chosen: its loss on C is reported, not avoided.
    assert rows["C"]["chosen"] == "mcc" and rows["C"]["gain"] == pytest.approx(-0.8)
    # Held out A or B, C's failure makes DANN the safer choice: no gain.
    assert rows["A"]["chosen"] == "dann" and rows["A"]["gain"] == 0.0


def test_cli_startup_quick():
    records = _run_quick("cli_startup")
    assert [r["command"] for r in records[1:]] == [
        "skdann --help",
        "skdann info",
        "skdann predict",
    ]
    assert all(
        0 < r["min_seconds"] <= r["median_seconds"] <= r["max_seconds"] for r in records[1:]
    )
