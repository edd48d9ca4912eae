"""Cross-validation, bootstrap and test-set statistics (fitcore/validation.py, ljfit fit --cv/--bootstrap/--test)."""
import csv
import io
import json

import numpy as np
import pytest
from synth import random_dataset, true_theta, with_reference
from test_cli_support import invoke

from fitcore.fit import Start, layout_for
from fitcore.fitting import fit_dataset
from fitcore.moments import compute_moments
from fitcore.params import Layout
from fitcore.spec import FitOptions, FitSpec, ModelOptions
from fitcore.validation import FrameRows, ValidationOptions, bootstrap, cross_validate

S22 = "tests/data/s22x5/s22x5_{}.extxyz"
TRUE = np.array([0.0104, 3.40])  # Ar epsilon eV, sigma Å


def dimer_rows(rng, noise=0.002, n=30) -> FrameRows:
    """Ar dimers at n distances with Gaussian noise on the LJ energies, fitted from the truth."""
    r = rng.uniform(3.2, 6.0, n)
    raw = np.stack([r ** -12.0, -r ** -6.0], axis=1)
    c = np.array([4 * TRUE[0] * TRUE[1] ** 12, 4 * TRUE[0] * TRUE[1] ** 6])
    energies = raw @ c + rng.normal(0, noise, n)
    start = Start(TRUE.copy(), np.ones(2, bool), np.zeros(2), np.full(2, np.inf), ("user", "user"))
    rows = FrameRows(layout=Layout(("Ar",)), raw=raw, scale=np.ones(n), energies=energies, per=1.0, start=start,
                     theta=TRUE.copy(), prior=None)
    theta, ok = rows.refit(np.ones(n))  # the full-data optimum
    assert ok
    return FrameRows(layout=rows.layout, raw=raw, scale=rows.scale, energies=energies, per=1.0, start=start,
                     theta=theta, prior=None)


def test_bootstrap_interval_covers_the_truth_at_about_the_nominal_rate():
    rng = np.random.default_rng(11)
    repeats, covered = 100, np.zeros(2)
    for _ in range(repeats):
        rows = dimer_rows(rng)
        ci = bootstrap(rows, 100, int(rng.integers(2**32)), ["Ar.epsilon", "Ar.sigma"])[0]
        covered += [ci["Ar.epsilon"][0] <= TRUE[0] <= ci["Ar.epsilon"][1], ci["Ar.sigma"][0] <= TRUE[1] <= ci["Ar.sigma"][1]]
    rate = covered / repeats
    assert np.all((rate >= 0.86) & (rate <= 1.0)), rate  # 95% nominal; 100 repeats: +-4.4% one sd at 0.95


def test_cross_validation_of_exact_data_predicts_the_held_out_frames():
    rng = np.random.default_rng(5)
    rows = dimer_rows(rng, noise=0.0)
    folds, rmse, mae = cross_validate(rows, np.arange(30) // 3, 5, rng)  # groups of three frames
    assert len(folds) == 5 and sum(f.n_test for f in folds) == 30 and all(f.n_test % 3 == 0 for f in folds)
    assert rmse < 1e-10 and mae < 1e-10


def test_cross_validation_fold_errors_are_those_of_a_fit_to_the_other_frames():
    rng = np.random.default_rng(6)
    rows = dimer_rows(rng)
    folds, rmse, _ = cross_validate(rows, np.arange(30), 3, np.random.default_rng(0))
    fold = np.empty(30, int)
    fold[np.random.default_rng(0).permutation(30)] = np.arange(30) % 3
    test = np.flatnonzero(fold == 0)
    theta, _ = rows.refit((fold != 0).astype(float))
    expected = np.sqrt(np.mean((rows.raw[test] @ [4 * theta[0] * theta[1] ** 12, 4 * theta[0] * theta[1] ** 6]
                                - rows.energies[test]) ** 2))
    assert folds[0].rmse == pytest.approx(expected, rel=1e-6)
    assert folds[0].train_rmse < folds[0].rmse * 3


def test_cli_cv_bootstrap_test_in_json():
    args = ["fit", S22.format("dispersion"), "--interactions", "inter-fragment", "--format", "json", "--seed", "3",
            "--cv", "4", "--cv-group", "dimer", "--bootstrap", "30", "--test", S22.format("mixed")]
    result = invoke(args)
    data = json.loads(result.stdout)
    v = data["fit"]["validation"]
    assert v["seed"] == 3 and v["cv"]["k"] == 4 and v["cv"]["group"] == "dimer"
    assert sum(f["n_test"] for f in v["cv"]["folds"]) == 40 and all(f["n_test"] % 5 == 0 for f in v["cv"]["folds"])
    assert v["cv"]["rmse"] > data["statistics"]["energy"]["rmse"]  # held-out frames are predicted worse
    lo, hi = v["bootstrap"]["C.sigma"]["ci95"]
    assert lo < data["species"]["C"]["sigma"] < hi
    assert v["bootstrap_resamples"] == 30
    assert v["test"]["n"] == 35 and v["test"]["rmse"] > 0
    assert "cross-validation (4 folds by dimer, seed 3)" in result.stderr and "test set: RMSE" in result.stderr
    again = json.loads(invoke(args).stdout)["fit"]["validation"]
    assert again["bootstrap"] == v["bootstrap"] and again["cv"] == v["cv"]  # seeded


@pytest.mark.parametrize("extra, message", [
    (["--cv", "50"], "--cv 50: needs 2 to 40 folds"),
    (["--cv", "3", "--cv-group", "nokey"], "--cv-group nokey: frame Methane_dimer_0.9 has no nokey= key"),
])
def test_cli_validation_errors(extra, message):
    result = invoke(["fit", S22.format("dispersion"), "--interactions", "inter-fragment", *extra], code=1)
    assert message in result.stderr and result.stdout == ""


def test_cli_bootstrap_intervals_in_csv():
    """--format csv: the old columns first, then ci95_lo,ci95_hi (in the output units; empty when fixed)."""
    base = ["fit", S22.format("dispersion"), "--interactions", "inter-fragment", "--seed", "3", "--bootstrap", "30",
            "--energy-unit", "kcal/mol", "--init", "H.epsilon=0.05", "--fix", "H.epsilon"]
    text = invoke(base + ["--format", "csv"]).stdout
    assert text.splitlines()[0] == "parameter,value,stderr,unit,flags,ci95_lo,ci95_hi"
    rows = {row["parameter"]: row for row in csv.DictReader(io.StringIO(text))}
    bootstrap = json.loads(invoke(base + ["--format", "json"]).stdout)["fit"]["validation"]["bootstrap"]
    assert rows["H.epsilon"]["ci95_lo"] == rows["H.epsilon"]["ci95_hi"] == "" and "H.epsilon" not in bootstrap
    assert set(bootstrap) == set(rows) - {"H.epsilon"}
    for name, interval in bootstrap.items():
        lo, hi = float(rows[name]["ci95_lo"]), float(rows[name]["ci95_hi"])
        assert [lo, hi] == pytest.approx(interval["ci95"], rel=1e-11)
        assert lo <= hi
    plain = invoke(["fit", S22.format("dispersion"), "--interactions", "inter-fragment", "--format", "csv"]).stdout
    assert plain.splitlines()[0] == "parameter,value,stderr,unit,flags"


def test_cross_validation_fits_what_the_fixed_terms_leave(rng):
    """A baseline (or Coulomb) energy is not the LJ terms': exact data are predicted exactly held out."""
    dataset = random_dataset(rng, n_frames=12, pbc="full", length=10.0)
    layout = layout_for(dataset.type_names, "lorentz-berthelot", "none", dataset.species_names, [])
    dataset = with_reference(dataset, layout, true_theta(layout), 7.5, True)
    baseline = rng.uniform(-1.0, 1.0, 12)
    dataset = type(dataset)(**{**dataset.__dict__, "energies": dataset.energies + baseline, "baseline": baseline})
    model = ModelOptions(cutoff=7.5, shift=True)
    moments = compute_moments(dataset, model.scheme)
    result = fit_dataset(dataset, moments, model, FitSpec(), FitOptions(),
                         validation=ValidationOptions(cv=3, bootstrap=5, seed=1))
    assert result.validation.cv_rmse < 1e-9
    for name, (lo, hi) in result.validation.ci95.items():
        assert hi - lo < 1e-8 * abs(hi)
