"""The default fit on real interaction energies: multistart from the data guess and UFF,
implausible flags. Data: S22x5 (CCSD(T)/CBS dimer curves, tests/data/s22x5/make.py)."""
import json

import numpy as np
import pytest
from test_cli_support import invoke

from fitcore.errors import LjfitWarning
from fitcore.fit import FitOptions
from fitcore.io.inputs import load_dataset
from fitcore.fitting import extra_starts, fit_dataset
from fitcore.moments import compute_moments
from fitcore.spec import FitSpec, ModelOptions

S22 = "tests/data/s22x5/s22x5_{}.extxyz"
MODEL = ModelOptions(scope="inter-fragment")


def s22(group):
    data = load_dataset([S22.format(group)])
    return data, compute_moments(data, MODEL.scheme, MODEL.scope)


def test_default_fit_reaches_the_best_of_a_random_multistart():
    data, moments = s22("dispersion")
    default = fit_dataset(data, moments, MODEL, FitSpec(), FitOptions())
    assert not any("implausible" in f for f in default.flags)
    assert [m.origin for m in default.optimizer.minima] == ["uff", "data"]  # UFF's start wins, the data guess's is worse
    rng = np.random.default_rng(3)
    costs = []
    for _ in range(10):  # our own multistart: random physical starts, one local fit each
        init = {f"{t}.{k}": float(np.exp(rng.uniform(np.log(1e-3), np.log(3e-2))) if k == "epsilon"
                                  else rng.uniform(2.0, 4.0)) for t in data.type_names for k in ("epsilon", "sigma")}
        result = fit_dataset(data, moments, MODEL, FitSpec(init=init), FitOptions(multistart=False))
        costs.append(result.optimizer.cost)
    assert default.optimizer.cost <= min(costs) * (1 + 1e-7)
    sigma = {t: default.params.value(f"{t}.sigma") for t in data.type_names}
    assert 1.5 < sigma["H"] < 2.5 and 3.0 < sigma["C"] < 3.8


def test_without_multistart_the_data_guess_ends_in_the_degenerate_corner():
    data, moments = s22("dispersion")
    with pytest.warns(LjfitWarning, match="implausible values: .*N.sigma"):
        alone = fit_dataset(data, moments, MODEL, FitSpec(), FitOptions(multistart=False))
    flags = dict(zip(alone.params.names, alone.flags))
    assert "implausible" in flags["N.sigma"]
    assert len(alone.optimizer.minima) == 1


def test_hydrogen_bonded_dimers_are_flagged_with_the_usual_causes():
    result = invoke(["fit", S22.format("hbond"), "--interactions", "inter-fragment", "--format", "json"])
    data = json.loads(result.stdout)
    flagged = [name for name, flags in data["fit"]["flags"].items() if "implausible" in flags]
    assert flagged and all(n.endswith((".epsilon", ".sigma")) for n in flagged)
    warning = next(line for line in result.stderr.splitlines() if line.startswith("warning: implausible"))
    assert "hydrogen bonds" in warning and "charges" in warning and "--prior uff" in warning
    assert data["fit"]["minima"][0]["cost"] <= data["fit"]["minima"][1]["cost"]
    assert {m["origin"] for m in data["fit"]["minima"]} == {"data", "uff"}


def test_no_uff_start_for_types_that_are_not_elements(tmp_path):
    from fitcore.fit import Start
    from fitcore.params import Layout
    layout = Layout(("Ow", "Hw"))
    start = Start(np.ones(4), np.ones(4, bool), np.zeros(4), np.full(4, np.inf), ("data",) * 4)
    assert extra_starts(layout, start) == ()
    element = Layout(("O", "H"))
    (origin, theta), = extra_starts(element, start)
    assert origin == "uff" and theta[1] == pytest.approx(3.5 / 2 ** (1 / 6))
    user = Start(np.ones(4), np.ones(4, bool), np.zeros(4), np.full(4, np.inf), ("user",) * 4)
    assert extra_starts(element, user) == ()  # the user's values are not replaced
