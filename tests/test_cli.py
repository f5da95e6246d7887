"""The ``skdann`` command line: fit, predict, evaluate and info, and its errors."""

import json
import pickle
import subprocess
import sys
import zipfile
from io import StringIO
from pathlib import Path

import numpy as np
import pandas as pd
import pytest

from skdann import _tabular, cli
from skdann.io import load
from skdann.preprocessing import CategoryStrings

from .conftest import SHARED_DATA

pytest.importorskip("skops")

FAST = ["--estimator", "dann", "--set", "max_iter=3", "--set", "hidden_layer_sizes=(16,)"]


def _table(rng, n, shift):
    frame = pd.DataFrame(
        {
            "size": rng.normal(size=n) + shift,
            "weight": np.where(rng.rand(n) < 0.1, np.nan, rng.normal(size=n)),
            "colour": rng.choice(["red", "green", "blue"], size=n),
            "grade": rng.randint(1, 4, size=n),
            "id": np.arange(n),
        }
    )
    frame.loc[::13, "colour"] = np.nan
    frame["label"] = np.where(frame["size"] + (frame["colour"] == "red") > shift, "yes", "no")
    frame["amount"] = 2.5 * frame["size"] + rng.normal(size=n)
    return frame


@pytest.fixture(scope="module")
def tables(tmp_path_factory):
    folder = tmp_path_factory.mktemp("tables")
    rng = np.random.RandomState(0)
    _table(rng, 120, 0.0).to_csv(folder / "source.csv", index=False)
    _table(rng, 90, 1.0).to_csv(folder / "target.csv", index=False)
    return folder


@pytest.fixture(scope="module")
def model(tables):
    path = tables / "model.skdann"
    argv = _fit_args(tables / "source.csv", tables / "target.csv", "label", path)
    assert cli.main([*argv, "--drop", "id,amount", "--categorical", "grade", *FAST]) == 0
    return path


def _fit_args(source, target, label, output):
    return f"fit --source {source} --target {target} --label {label} -o {output}".split()


def _run(capsys, *argv):
    code = cli.main([str(a) for a in argv])
    out, err = capsys.readouterr()
    return code, out, err


def test_fit_reports_on_stderr_and_saves_a_pipeline(tables, capsys):
    path = tables / "fit.skdann"
    argv = _fit_args(tables / "source.csv", tables / "target.csv", "label", path)
    code, out, err = _run(capsys, *argv, "--drop", "id,amount", *FAST)
    assert code == 0
    assert (
        out == f"saved DANNClassifier (classification of 'label', 4 columns, 3 epochs) to {path}\n"
    )
    assert "has the label column 'label': it is dropped, not used." in err
    assert "task: classification (label 'label'); --task overrides." in err
    assert "train_domain_loss" in err  # the per-epoch table


def test_predict_evaluate_and_info(tables, model, capsys):
    target, predictions = tables / "target.csv", tables / "predictions.csv"
    code, out, _ = _run(capsys, "predict", "--model", model, "--input", target, "-o", predictions)
    assert (code, out) == (0, "")
    frame = pd.read_csv(predictions)
    assert list(frame.columns) == ["row", "prediction"] and len(frame) == 90
    assert frame["row"].tolist() == list(range(90))
    assert set(frame["prediction"]) <= {"yes", "no"}

    code, out, _ = _run(capsys, "predict", "--model", model, "--input", target, "--proba")
    proba = pd.read_csv(StringIO(out))
    assert list(proba.columns) == ["row", "prediction", "proba_no", "proba_yes"]
    np.testing.assert_allclose(proba[["proba_no", "proba_yes"]].sum(axis=1), 1.0, rtol=1e-6)
    assert (proba["prediction"] == frame["prediction"]).all()

    code, out, _ = _run(
        capsys, "evaluate", "--model", model, "--input", target, "--label", "label"
    )
    lines = out.splitlines()
    assert code == 0 and lines[:3] == ["| metric | value |", "|---|---|", "| rows | 90 |"]
    assert lines[3].startswith("| accuracy |") and lines[4].startswith("| balanced accuracy |")
    accuracy = (frame["prediction"] == pd.read_csv(target)["label"]).mean()
    assert float(lines[3].split("|")[2]) == pytest.approx(accuracy, abs=1e-4)

    code, out, _ = _run(capsys, "info", model)
    assert code == 0
    assert out.startswith("model: DANNClassifier (last step 'dannclassifier' of a Pipeline)\n")
    assert "input columns: 4 (size, weight, colour, grade)\n" in out
    assert "classes: ['no', 'yes']\n" in out and "epochs: 3, last train_loss" in out
    assert "  hidden_layer_sizes = (16,)\n" in out and "saved with: skdann " in out
    columns = {name: cols for name, _, cols in load(model)[0].transformers_}
    assert columns == {"numeric": ["size", "weight"], "categorical": ["colour", "grade"]}


@pytest.fixture(scope="module")
def coded_tables(tmp_path_factory):
    """Mixed-type CSVs: integer-coded categories (whole numbers in the source, floats with
    missing values in the target), text with missing values, numbers with missing values."""
    folder = tmp_path_factory.mktemp("coded")
    rng = np.random.RandomState(1)
    for name, n, shift in (("source", 150, 0.0), ("target", 120, 1.0)):
        frame = _table(rng, n, shift).drop(columns=["id", "amount"])
        frame["site"] = rng.randint(0, 4, size=n)  # integer codes
        if name == "target":
            frame["site"] = frame["site"].astype(float)
            frame.loc[::7, "site"] = np.nan  # read back as 1.0, 2.0, ..., NaN
            frame.loc[::11, "grade"] = np.nan
        frame.to_csv(folder / f"{name}.csv", index=False)
    return folder


def test_a_model_fitted_by_the_cli_predicts_the_same_in_python(coded_tables, capsys):
    path, target = coded_tables / "cli.skdann", coded_tables / "target.csv"
    argv = _fit_args(coded_tables / "source.csv", target, "label", path)
    code, _, _ = _run(capsys, *argv, "--categorical", "grade,site", *FAST)
    assert code == 0
    code, out, _ = _run(capsys, "predict", "--model", path, "--input", target, "--proba")
    from_cli = pd.read_csv(StringIO(out))
    table = pd.read_csv(target)
    model = load(path)
    assert list(model[0].named_transformers_["categorical"][0].feature_names_in_) == [
        "colour",
        "grade",
        "site",
    ]
    from_python = model.predict_proba(table.drop(columns="label"))
    assert (from_cli["prediction"] == model.predict(table.drop(columns="label"))).all()
    np.testing.assert_allclose(from_cli[["proba_no", "proba_yes"]], from_python, rtol=1e-5)
    code, out, _ = _run(capsys, "evaluate", "--model", path, "--input", target, "--label", "label")
    accuracy = model.score(table.drop(columns="label"), table["label"])
    assert f"| accuracy | {accuracy:.4f} |" in out


def test_a_pipeline_saved_from_python_evaluates_the_same_in_the_cli(
    coded_tables, tmp_path, capsys
):
    from sklearn.compose import ColumnTransformer
    from sklearn.impute import SimpleImputer
    from sklearn.pipeline import make_pipeline
    from sklearn.preprocessing import OneHotEncoder, StandardScaler

    from skdann import DANNClassifier, save, stack_domains

    source = pd.read_csv(coded_tables / "source.csv")
    target = pd.read_csv(coded_tables / "target.csv")
    # The user's own recipe: integer codes one-hot encoded as numbers, no text conversion.
    encode = make_pipeline(
        SimpleImputer(strategy="most_frequent"), OneHotEncoder(handle_unknown="ignore")
    )
    scale = make_pipeline(SimpleImputer(), StandardScaler())
    model = make_pipeline(
        ColumnTransformer(  # named as the CLI names its own branches
            [("numeric", scale, ["size", "weight"]), ("categorical", encode, ["grade", "site"])]
        ),
        DANNClassifier(max_iter=3, hidden_layer_sizes=(16,), random_state=0),
    )
    X, y = stack_domains(
        source.drop(columns="label"), source["label"], target.drop(columns="label")
    )
    model.fit(X, y)
    path = tmp_path / "python.skdann"
    save(model, path)
    features = target.drop(columns="label")
    code, out, _ = _run(
        capsys, "evaluate", "--model", path, "--input", coded_tables / "target.csv", "--label",
        "label",
    )  # fmt: skip
    assert code == 0
    assert f"| accuracy | {model.score(features, target['label']):.4f} |" in out
    code, out, _ = _run(
        capsys, "predict", "--model", path, "--input", coded_tables / "target.csv", "--proba"
    )
    from_cli = pd.read_csv(StringIO(out))
    assert (from_cli["prediction"] == model.predict(features)).all()
    np.testing.assert_allclose(
        from_cli[["proba_no", "proba_yes"]], model.predict_proba(features), rtol=1e-5
    )


def test_the_objective_is_settable_and_shown(tables, capsys):
    path = tables / "cdan.skdann"
    argv = _fit_args(tables / "source.csv", tables / "target.csv", "label", path)
    code, _, _ = _run(capsys, *argv, "--drop", "id,amount", *FAST, "--set", "objective=cdan+e")
    assert code == 0
    assert load(path)[-1].objective_.entropy_conditioning is True
    code, out, _ = _run(capsys, "info", path)
    assert code == 0 and "  objective = 'cdan+e'\n" in out


@pytest.mark.parametrize(
    "labels, task",
    [
        (["a", "b"], "classification"),
        ([True, False], "classification"),
        ([1, 2, 3], "classification"),
        ([1.0, 2.0], "classification"),
        (list(range(21)), "regression"),
        ([0.5, 1.0], "regression"),
    ],
)
def test_the_task_rule(labels, task):
    assert _tabular.infer_task(pd.Series(labels)) == task


def test_columns_are_typed_alike_in_both_tables():
    source = pd.DataFrame({"a": [1.0, 2.0], "b": [3, 4], "c": [0.5, 1.5]})
    target = pd.DataFrame({"a": [1.0, np.nan], "b": ["x", "4"], "c": [0.5, 2.5]})
    assert _tabular.split_columns(source, target, ["a"]) == (["c"], ["a", "b"])
    typed = CategoryStrings().fit(source[["a", "b"]]).transform(target[["a", "b"]])
    assert typed[0].tolist() == ["1", "x"] and pd.isna(typed[1][0]) and typed[1][1] == "4"


def test_regression_on_parquet_files(tables, tmp_path, capsys):
    pytest.importorskip("pyarrow")
    source, target, path = tmp_path / "s.parquet", tmp_path / "t.parquet", tmp_path / "m.skdann"
    pd.read_csv(tables / "source.csv").to_parquet(source)
    pd.read_csv(tables / "target.csv").to_parquet(target)
    argv = _fit_args(source, target, "amount", path)
    code, _, err = _run(capsys, *argv, "--drop", "id,label", *FAST)
    assert code == 0 and "task: regression (label 'amount')" in err
    output = tmp_path / "out.parquet"
    code, _, _ = _run(capsys, "predict", "--model", path, "--input", target, "-o", output)
    assert code == 0 and list(pd.read_parquet(output).columns) == ["row", "prediction"]
    code, out, _ = _run(
        capsys, "evaluate", "--model", path, "--input", target, "--label", "amount"
    )
    assert code == 0 and "| R2 |" in out and "| mean absolute error |" in out
    code, out, err = _run(capsys, "predict", "--model", path, "--input", target, "--proba")
    assert (code, out) == (2, "")
    assert err == f"skdann: error: --proba needs a classifier; {path} holds a regressor.\n"


@pytest.mark.slow
def test_round_trip_on_student_performance(tmp_path, capsys):
    data = SHARED_DATA / "student_performance_uci" / "student_mat_por.csv.gz"
    if not data.exists():
        pytest.skip(f"{data} is missing")
    # PROVENANCE.md: math -> Portuguese, pass = G3 >= 10; G1 and G2 nearly determine G3.
    table = pd.read_csv(data).drop(columns=["G1", "G2"])
    table["pass"] = table.pop("G3") >= 10
    source, target, path = tmp_path / "mat.csv", tmp_path / "por.csv", tmp_path / "m.skdann"
    for subject, file in (("mat", source), ("por", target)):
        rows = table[table["subject"] == subject].drop(columns="subject")
        rows.sample(200, random_state=0).to_csv(file, index=False)
    code, _, err = _run(capsys, *_fit_args(source, target, "pass", path), *FAST)
    assert code == 0 and "task: classification (label 'pass')" in err
    code, out, _ = _run(capsys, "predict", "--model", path, "--input", target, "--proba")
    predictions = pd.read_csv(StringIO(out))
    assert list(predictions.columns) == ["row", "prediction", "proba_False", "proba_True"]
    assert len(predictions) == 200 and set(predictions["prediction"]) <= {True, False}
    code, out, _ = _run(capsys, "evaluate", "--model", path, "--input", target, "--label", "pass")
    accuracy = (predictions["prediction"] == pd.read_csv(target)["pass"]).mean()
    assert code == 0 and float(out.splitlines()[3].split("|")[2]) == pytest.approx(
        accuracy, abs=1e-4
    )
    code, out, _ = _run(capsys, "info", path)
    assert code == 0 and "input columns: 30 (school, sex, age, address," in out


def _valid_keys():
    from skdann import DANNClassifier

    return ", ".join(
        sorted(set(DANNClassifier().get_params()) - {"feature_extractor", "callbacks"})
    )


@pytest.fixture(scope="module")
def bad_files(tables, tmp_path_factory):
    folder = tmp_path_factory.mktemp("bad")
    (folder / "empty.csv").write_text("")
    (folder / "header.csv").write_text("size,weight,colour,grade,id,label,amount\n")
    other = pd.read_csv(tables / "target.csv").drop(columns=["weight", "label"]).assign(z=1)
    other.to_csv(folder / "other.csv", index=False)
    (folder / "model.pkl").write_bytes(pickle.dumps({"not": "a model"}))
    (folder / "src.csv").write_bytes((tables / "source.csv").read_bytes())
    (folder / "in.csv").write_bytes((tables / "target.csv").read_bytes())
    (folder / "latin.csv").write_bytes("size,colour\n1.0,caf\xe9\n".encode("latin-1"))
    text = pd.read_csv(tables / "target.csv")
    text["size"] = text["size"].astype(object)
    text.loc[4, "size"] = "n/a?"
    text.to_csv(folder / "text.csv", index=False)
    return folder


FIT = (
    "fit --source {tables}/source.csv --target {tables}/target.csv --label label -o {bad}/m.skdann"
    " --estimator dann"
)
ERRORS = {
    "missing label": (
        FIT.replace("label label", "label nope"),
        "the label column 'nope' is not in {tables}/source.csv.",
    ),
    "other columns": (
        FIT.replace("{tables}/target", "{bad}/other"),
        "{bad}/other.csv must have the columns of {tables}/source.csv (label and --drop aside); "
        "missing: ['weight']; extra: ['z'].",
    ),
    "empty file": (FIT.replace("{tables}/source", "{bad}/empty"), "{bad}/empty.csv is empty."),
    "no rows": (FIT.replace("{tables}/target", "{bad}/header"), "{bad}/header.csv has no rows."),
    "no file": (FIT.replace("{tables}/source", "{bad}/nope"), "{bad}/nope.csv: no such file."),
    "unknown key": (
        FIT + " --set banana=1",
        "unknown parameter 'banana' for DANNClassifier; valid keys: {keys}.",
    ),
    "bad value": (
        FIT + " --set max_iter=-5",
        "The 'max_iter' parameter of DANNClassifier must be an int in the range [1, inf). "
        "Got -5 instead.",
    ),
    "bad device": (
        FIT + " --set device=banana",
        "device='banana' is not a torch device; use 'auto', 'cpu', 'cuda' or 'cuda:N'.",
    ),
    "no equals sign": (FIT + " --set max_iter", "--set expects KEY=VALUE, got 'max_iter'."),
    "unknown drop": (
        FIT + " --drop nope",
        "--drop names columns that are not in the data: ['nope'].",
    ),
    "unreadable model": (
        "info {bad}/model.pkl",
        "{bad}/model.pkl is not a skdann model file (not a zip archive). skdann.io.load "
        "never unpickles; load pickle or joblib files with pickle or joblib, and only if you "
        "trust them.",
    ),
    "missing model": (
        "predict --model {bad}/none.skdann --input {bad}/other.csv",
        "{bad}/none.skdann: no such file.",
    ),
    "missing input column": (
        "predict --model {model} --input {bad}/other.csv",
        "{bad}/other.csv lacks columns the model was fitted on: ['weight'].",
    ),
    "fit -o naming its source": (
        FIT.replace("{tables}/source", "{bad}/src").replace("{bad}/m.skdann", "{bad}/src.csv"),
        "-o {bad}/src.csv is the --source file: writing it would overwrite that input. Choose "
        "another output file, or pass --force.",
    ),
    "predict -o naming its input": (
        "predict --model {model} --input {bad}/in.csv -o {bad}/in.csv",
        "-o {bad}/in.csv is the --input file: writing it would overwrite that input. Choose "
        "another output file, or pass --force.",
    ),
    "not UTF-8": (
        "predict --model {model} --input {bad}/latin.csv",
        "{bad}/latin.csv is not utf-8 text (it holds the byte b'\\xe9'); give its encoding, "
        "e.g. --encoding latin-1 or --encoding cp1252.",
    ),
    "unknown encoding": (
        "predict --model {model} --input {bad}/latin.csv --encoding klingon",
        "--encoding 'klingon' is not a known text encoding.",
    ),
    "callbacks": (
        FIT + " --set callbacks=[]",
        "callbacks cannot be set from the command line (it takes Python objects); use the "
        "Python API (skdann.DANNClassifier / DANNRegressor) for it.",
    ),
    "huge layers": (
        FIT + " --set hidden_layer_sizes=(12000,12000)",
        "--set hidden_layer_sizes=(12000, 12000) makes at least 144,024,000 weights (0.6 GB of "
        "float32, several times that to train); the command line allows up to 100,000,000. "
        "Use smaller layers, or the Python API.",
    ),
    "text in a numeric column": (
        "predict --model {model} --input {bad}/text.csv",
        "{bad}/text.csv: column 'size' was numeric at fit but holds the text 'n/a?' (data row "
        "5); fix or blank that value.",
    ),
    "evaluate without label": (
        "evaluate --model {model} --input {bad}/other.csv --label label",
        "the label column 'label' is not in {bad}/other.csv.",
    ),
}


@pytest.mark.parametrize("case", list(ERRORS))
def test_errors_are_one_line_with_status_2(tables, model, bad_files, capsys, case):
    names = {"tables": tables, "bad": bad_files, "model": model, "keys": _valid_keys()}
    argv, message = (text.format(**names) for text in ERRORS[case])
    code, out, err = _run(capsys, *argv.split())
    assert (code, out) == (2, "")
    assert err.splitlines()[-1] == f"skdann: error: {message}"
    assert "Traceback" not in err and err.count("error") == 1


def test_force_lets_predict_overwrite_its_input(model, tmp_path, tables, capsys):
    path = tmp_path / "in.csv"
    path.write_bytes((tables / "target.csv").read_bytes())
    code, _, _ = _run(capsys, "predict", "--model", model, "--input", path, "-o", path, "--force")
    assert code == 0 and list(pd.read_csv(path).columns) == ["row", "prediction"]


def test_semicolon_and_latin1_files_are_read(model, tables, tmp_path, capsys):
    target = pd.read_csv(tables / "target.csv")
    expected = _run(capsys, "predict", "--model", model, "--input", tables / "target.csv")[1]
    path = tmp_path / "semi.csv"
    target.assign(colour=target["colour"].str.replace("red", "red")).to_csv(
        path, sep=";", index=False, encoding="latin-1"
    )
    code, out, _ = _run(
        capsys, "predict", "--model", model, "--input", path, "--encoding", "latin-1"
    )
    assert (code, out) == (0, expected)


def _old_model_file(model, tmp_path, edit):
    """A format-1 copy of ``model`` (no checksums), its config changed by ``edit``."""
    with zipfile.ZipFile(model) as archive:
        members = {n: archive.read(n) for n in archive.namelist() if n != "checksums.json"}
    config = json.loads(members["config.json"])
    config["format_version"] = 1
    edit(config)
    members["config.json"] = json.dumps(config).encode()
    path = tmp_path / "old.skdann"
    with zipfile.ZipFile(path, "w") as archive:
        for name, data in members.items():
            archive.writestr(name, data)
    return path


def test_info_on_an_edited_old_file(model, tmp_path, capsys):
    def no_loss(config):
        for row in config["history"]:
            row.pop("train_loss")

    code, out, _ = _run(capsys, "info", _old_model_file(model, tmp_path, no_loss))
    assert code == 0 and "epochs: 3\n" in out

    path = _old_model_file(model, tmp_path, lambda config: config["fitted"].pop("n_iter_"))
    code, out, err = _run(capsys, "info", path)
    assert (code, out) == (2, "")
    assert err == (
        f"skdann: error: {path}: its config.json lacks or garbles 'n_iter_' (an edited file?); "
        "save the model again.\n"
    )


def test_the_console_script_runs_in_a_subprocess(model):
    script = Path(sys.executable).with_name("skdann")
    command = [str(script)] if script.exists() else [sys.executable, "-m", "skdann.cli"]
    result = subprocess.run([*command, "info", str(model)], capture_output=True, text=True)
    assert (result.returncode, result.stderr) == (0, "")
    assert result.stdout.startswith("model: DANNClassifier (last step 'dannclassifier'")


def _numeric_tables(folder, task):
    rng = np.random.RandomState(2)
    for name, n, shift in (("source", 80, 0.0), ("target", 60, 0.8)):
        frame = pd.DataFrame(rng.normal(size=(n, 3)) + shift, columns=["a", "b", "c"])
        value = frame["a"] - frame["b"] + 0.1 * rng.normal(size=n)
        frame["y"] = (value > shift).map({True: "up", False: "down"}) if task == "c" else value
        frame.to_csv(folder / f"{name}.csv", index=False)
    return pd.read_csv(folder / "source.csv"), pd.read_csv(folder / "target.csv")


@pytest.mark.parametrize("in_pipeline", [False, True], ids=["alone", "in_pipeline"])
@pytest.mark.parametrize("kind", ["DANNClassifier", "DANNRegressor", "SeedEnsemble"])
def test_every_public_estimator_runs_through_the_cli(kind, in_pipeline, tmp_path, capsys):
    from skdann import DANNClassifier, DANNRegressor, save, stack_domains
    from skdann.ensemble import SeedEnsemble

    task = "r" if kind == "DANNRegressor" else "c"
    source, target = _numeric_tables(tmp_path, task)
    fast = {"max_iter": 3, "hidden_layer_sizes": (8,), "random_state": 0}
    model = DANNRegressor(**fast) if task == "r" else DANNClassifier(**fast)
    if kind == "SeedEnsemble":
        model = SeedEnsemble(model, n_seeds=2, random_state=0)
    if in_pipeline:
        from sklearn.pipeline import make_pipeline
        from sklearn.preprocessing import StandardScaler

        model = make_pipeline(StandardScaler().set_output(transform="pandas"), model)
    features = target.drop(columns="y")
    X, y = stack_domains(source.drop(columns="y"), source["y"], features, regression=task == "r")
    model.fit(X, y)
    path = tmp_path / "model.skdann"
    save(model, path)
    digits = ["--float-format", "%.17g"]  # every digit, for an exact comparison
    code, out, _ = _run(
        capsys, "predict", "--model", path, "--input", tmp_path / "target.csv", *digits
    )
    assert code == 0
    np.testing.assert_array_equal(
        pd.read_csv(StringIO(out))["prediction"], model.predict(features)
    )
    code, out, _ = _run(
        capsys, "evaluate", "--model", path, "--input", tmp_path / "target.csv", "--label", "y"
    )
    metric = "accuracy" if task == "c" else "R2"
    assert code == 0 and f"| {metric} | {model.score(features, target['y']):.4f} |" in out
    code, out, _ = _run(capsys, "info", path)
    assert code == 0 and out.startswith(f"model: {kind}")
    assert (" of a Pipeline)" in out.splitlines()[0]) is in_pipeline


def test_fit_builds_a_seed_ensemble(tables, capsys):
    path = tables / "ensemble.skdann"
    argv = _fit_args(tables / "source.csv", tables / "target.csv", "label", path)
    settings = ["--set", "n_seeds=2", "--set", "max_iter=2", "--set", "estimator__alpha=0.01"]
    code, out, err = _run(
        capsys, *argv, "--drop", "id,amount", "--estimator", "seed-ensemble", *settings
    )
    assert code == 0 and err.count("train_domain_loss") == 2  # one table per member
    assert out == (
        "saved SeedEnsemble of 2 DANNClassifier (classification of 'label', 4 columns, "
        f"2 epochs each) to {path}\n"
    )
    ensemble = load(path)[-1]
    assert ensemble.n_seeds == 2 and ensemble.random_state == 0
    assert [m.alpha for m in ensemble.estimators_] == [0.01, 0.01]
    code, out, _ = _run(capsys, "info", path)
    assert code == 0
    assert out.startswith(
        "model: SeedEnsemble of 2 DANNClassifier (last step 'seedensemble' of a Pipeline)\n"
    )
    assert f"seeds: {ensemble.seeds_}\n" in out and "epochs of the members: 2, 2\n" in out
    assert "  n_seeds = 2\n" in out and "  alpha = 0.01\n" in out
    code, _, err = _run(capsys, *argv, "--estimator", "seed-ensemble", "--set", "banana=1")
    assert code == 2 and "unknown parameter 'banana' for SeedEnsemble; valid keys: " in err


@pytest.mark.parametrize("argv", [["--help"], ["info", "{model}"]])
def test_help_and_info_load_neither_torch_nor_scikit_learn(model, argv):
    # They answer before any heavy import (their times are measured in the README).
    code = (
        "import sys\n"
        "from skdann import cli\n"
        "try:\n"
        f"    cli.main({[a.format(model=model) for a in argv]!r})\n"
        "except SystemExit:\n"
        "    pass\n"
        "heavy = {'torch', 'skorch', 'sklearn', 'pandas', 'scipy'} & set(sys.modules)\n"
        "print(sorted(heavy))\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0 and result.stdout.rstrip().endswith("[]")


def test_python_m_skdann_is_the_cli():
    result = subprocess.run(
        [sys.executable, "-m", "skdann", "--version"], capture_output=True, text=True
    )
    from skdann import __version__

    assert (result.returncode, result.stdout) == (0, f"skdann {__version__}\n")


def test_predictions_keep_the_id_column_and_six_digits(tables, model, capsys):
    target = tables / "target.csv"
    code, out, _ = _run(
        capsys, "predict", "--model", model, "--input", target, "--proba", "--id", "id"
    )
    frame = pd.read_csv(StringIO(out))
    assert code == 0 and list(frame.columns) == ["id", "prediction", "proba_no", "proba_yes"]
    assert frame["id"].tolist() == pd.read_csv(target)["id"].tolist()
    first = out.splitlines()[1].split(",")
    assert all(len(value.replace(".", "").lstrip("0")) <= 6 for value in first[2:])
    code, _, err = _run(capsys, "predict", "--model", model, "--input", target, "--id", "nope")
    assert (code, err) == (2, f"skdann: error: --id 'nope' is not a column of {target}.\n")
    code, _, err = _run(
        capsys, "predict", "--model", model, "--input", target, "--float-format", "%d%d"
    )
    message = "--float-format '%d%d' is not a printf-style float format such as %.6g or %.3f."
    assert (code, err) == (2, f"skdann: error: {message}\n")


def test_fit_builds_the_recommended_estimator(tables, capsys):
    path = tables / "recommended.skdann"
    argv = _fit_args(tables / "source.csv", tables / "target.csv", "label", path)
    code, out, _ = _run(  # the default --estimator
        capsys, *argv, "--drop", "id,amount", "--set", "label_shift_threshold=None"
    )
    model = load(path)[-1]
    assert code == 0 and model.rule == "average_baselines" and model.random_state == 0
    assert out.startswith(
        "saved GuardedAdaptationClassifier (weights: logistic_regression 0.50, "
        "hist_gradient_boosting 0.50) (classification of 'label', 4 columns, the plain mean "
        "of the baselines)"
    )
    code, out, _ = _run(capsys, "info", path)
    assert code == 0 and out.startswith("model: GuardedAdaptationClassifier (last step")
    assert "rule: average_baselines (margin 0): the plain mean of the baselines" in out
    assert "  hist_gradient_boosting [baseline]: " in out
    code, _, err = _run(capsys, *argv, "--estimator", "recommended", "--set", "rule=best")
    assert code == 2 and "rule" in err
    code, _, err = _run(capsys, *argv, "--set", "max_iter=3")
    assert code == 2 and err.rstrip().endswith(
        "(the DANN network's keys need --estimator dann or seed-ensemble)."
    )
