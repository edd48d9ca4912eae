"""Identifiability from the SVD of the Jacobian, and --prior as extra residuals.

The adsorption sample (CO2 on a Cu cluster, adsorbate-surface pairs only) determines the
C-Cu and O-Cu pair parameters, 4 of the 6 per-type directions."""
import glob
import json

import numpy as np
import pytest
from test_cli_support import invoke

from fitcore.params import Layout
from fitcore.prior import Prior, PriorProblem

ADS = sorted(glob.glob("sample_data/adsorption/structures/*.xyz"))
ADS_ARGS = [*ADS, "--energies", "sample_data/adsorption/energies.csv", "--fragment-split", "3",
            "--interactions", "inter-fragment", "--format", "json"]


def fit_json(*extra):
    result = invoke([*ADS_ARGS, *extra] if extra and extra[0] != "fit" else ["fit", *ADS_ARGS, *extra[1:]])
    return json.loads(result.stdout), result.stderr


def test_adsorption_without_fix_determines_the_pair_parameters_only():
    data, stderr = fit_json("fit")
    ident = data["fit"]["identifiability"]
    assert (ident["rank"], ident["free"], ident["data_rank"]) == (4, 6, 4)
    assert ident["to_fix"] == ["Cu.epsilon", "Cu.sigma"]
    assert len(ident["directions"]) == 2
    for direction in ident["directions"]:  # each open combination involves Cu and both C and O
        assert {"Cu", "C", "O"} == {name.split(".")[0] for name in direction}
    assert "the data determine 4 of 6 directions: the C-Cu and Cu-O pair parameters. Fix Cu.epsilon and " \
           "Cu.sigma" in " ".join(stderr.split())
    assert "--prior uff" in stderr


def test_adsorption_directions_leave_the_pair_parameters_unchanged():
    """Moving along a reported direction (d log x) changes no C-Cu or O-Cu pair value, to first order."""
    data, _ = fit_json("fit")
    species = data["species"]
    for direction in data["fit"]["identifiability"]["directions"]:
        for a in ("C", "O"):
            d_log_eps = 0.5 * (direction.get(f"{a}.epsilon", 0) + direction.get("Cu.epsilon", 0))
            s_a, s_cu = species[a]["sigma"], species["Cu"]["sigma"]
            d_sigma = 0.5 * (s_a * direction.get(f"{a}.sigma", 0) + s_cu * direction.get("Cu.sigma", 0))
            assert abs(d_log_eps) < 0.06 and abs(d_sigma) < 0.06 * s_a  # coefficients below 0.05 are not reported


def test_prior_uff_determines_every_direction_without_fighting_the_data():
    plain, _ = fit_json("fit")
    with_prior, stderr = fit_json("fit", "--prior", "uff")
    ident = with_prior["fit"]["identifiability"]
    assert (ident["rank"], ident["free"], ident["data_rank"]) == (6, 6, 4)
    rmse, rmse_prior = plain["statistics"]["energy"]["rmse"], with_prior["statistics"]["energy"]["rmse"]
    assert rmse <= rmse_prior < 1.05 * rmse
    prior = with_prior["fit"]["prior"]
    assert prior["source"] == "uff" and prior["width"] == 0.2 and prior["weight"] == 1.0
    assert prior["values"]["C.sigma"] == pytest.approx(3.851 / 2 ** (1 / 6))
    assert all(np.isfinite(e["sigma_stderr"]) for e in with_prior["species"].values())
    assert "prior: uff, width 0.2" in stderr


def test_prior_weight_pulls_towards_the_prior_values():
    tight, _ = fit_json("fit", "--prior", "uff", "--prior-width", "0.001")
    assert tight["species"]["Cu"]["sigma"] == pytest.approx(3.495 / 2 ** (1 / 6), rel=0.01)


def test_prior_from_a_params_file(tmp_path):
    path = tmp_path / "p.json"
    invoke(["params", "uff", "C", "O", "-o", path, "-q"])  # no Cu: its parameters get no prior
    data, stderr = fit_json("fit", "--prior", str(path))
    assert data["fit"]["prior"]["missing"] == ["Cu.epsilon", "Cu.sigma"]
    assert data["fit"]["identifiability"]["rank"] == 6  # C and O fixed by the prior, Cu then by the data


def test_prior_errors(tmp_path):
    bad = tmp_path / "x.xyz"
    bad.write_text("2\nenergy=-0.01\nQq 0 0 0\nQq 0 0 3.5\n2\nenergy=-0.02\nQq 0 0 0\nQq 0 0 3.9\n")
    result = invoke(["fit", bad, "--prior", "uff"], code=1)
    assert "--prior uff: UFF has no element 'Qq'" in result.stderr
    result = invoke(["fit", *ADS_ARGS[:-2], "--prior", str(tmp_path / "none.json")], code=2)
    assert "none.json" in result.stderr and "does not exist" in result.stderr


class Linear:
    """A stand-in Problem: residuals A x - y."""
    layout = Layout(("A",))

    def __init__(self, a, y):
        self.a, self.y = a, y
        self.n_residuals = len(y)

    def residuals(self, x):
        return self.a @ x - self.y

    def jacobian(self, x):
        return self.a

    def residual_sum_of_squares(self, x, exact=False):
        r = self.residuals(x)
        return float(r @ r)


def test_prior_rows_and_their_exact_jacobian():
    rng = np.random.default_rng(2)
    base = Linear(rng.normal(size=(5, 2)), rng.normal(size=5))
    prior = Prior(source="t", names=("A.epsilon", "A.sigma"), index=np.array([0, 1]), mean=np.array([0.01, 3.0]),
                  width=0.2, weight=0.5, scale=0.5)
    problem = PriorProblem(base, prior)
    x = np.array([0.012, 2.7])
    r = problem.residuals(x)
    np.testing.assert_allclose(r[5:], 0.5 * np.log(x / prior.mean) / 0.2, rtol=1e-14)
    h = 1e-5 * x
    fd = np.stack([(problem.residuals(x + h[k] * np.eye(2)[k]) - problem.residuals(x - h[k] * np.eye(2)[k]))
                   / (2 * h[k]) for k in range(2)], axis=1)
    np.testing.assert_allclose(problem.jacobian(x), fd, rtol=1e-6, atol=1e-8)
    assert problem.n_residuals == 7
    assert problem.residual_sum_of_squares(x) == pytest.approx(float(r @ r), rel=1e-14)
