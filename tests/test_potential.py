"""potential.py: the forms, mixing rules and pair terms, on numpy and torch alike; no torch where none is needed."""
import subprocess
import sys

import numpy as np
import pytest
import torch
from hypothesis import given, settings
from hypothesis import strategies as st

from fitcore.errors import InputError
from fitcore.guess import pair_values, per_type_values
from fitcore.params import Layout, pair_coefficients, pair_tables, pair_types
from fitcore.potential import LJ, LJ96, MIXING, CutoffScheme, mie, mie_prefactor, parse_form

FORMS = {"lj": LJ, "lj96": LJ96, "mie:14,6": mie(14, 6), "mie:10.5,5.5": mie(10.5, 5.5)}
RULES = ("lorentz-berthelot", "geometric", "sixthpower")


def pair_energy(form, eps, sigma, r):
    """u(r) as the form's LAMMPS documentation writes it (not through the coefficients)."""
    x = sigma / r
    if form.name == "lj":
        return 4 * eps * (x ** 12 - x ** 6)
    if form.name == "lj96":
        return eps * (2 * x ** 9 - 3 * x ** 6)
    n, m = form.exponents
    return n / (n - m) * (n / m) ** (m / (n - m)) * eps * (x ** n - x ** m)


@pytest.mark.parametrize("name", list(FORMS))
def test_coefficients_give_the_documented_form_and_its_minimum(name):
    form, eps, sigma = FORMS[name], 0.0123, 3.3
    c_n, c_m = form.coefficients(eps, sigma)
    r = np.linspace(2.5, 12.0, 50)
    e_n, e_m = CutoffScheme(None, exponents=form.exponents).energy_terms(r)
    np.testing.assert_allclose(c_n * e_n - c_m * e_m, pair_energy(form, eps, sigma, r), rtol=1e-12, atol=1e-16)
    n, m = form.exponents
    r_min = sigma * (n * form.k_n / (m * form.k_m)) ** (1 / (n - m))
    assert c_n * r_min ** -n - c_m * r_min ** -m == pytest.approx(-eps, rel=1e-13)
    f_n, f_m = CutoffScheme(None, exponents=form.exponents).force_terms(np.array([r_min]))
    assert abs(c_n * f_n[0] - c_m * f_m[0]) < 1e-15
    np.testing.assert_allclose(form.eps_sigma(np.array([c_n]), np.array([c_m])), [[eps], [sigma]], rtol=1e-13)


def test_lj_is_mie_12_6_and_lj96_has_its_minimum_at_sigma():
    assert mie_prefactor(12, 6) == pytest.approx(4.0, rel=1e-15)
    assert mie(12, 6).coefficients(0.01, 3.4) == pytest.approx(LJ.coefficients(0.01, 3.4), rel=1e-14)
    c9, c6 = LJ96.coefficients(0.01, 3.4)
    assert c9 * 3.4 ** -9 - c6 * 3.4 ** -6 == pytest.approx(-0.01, rel=1e-14)


@pytest.mark.parametrize("name", list(FORMS))
def test_forces_are_minus_the_derivative_of_the_energy(name):
    scheme = CutoffScheme(9.0, shift=True, exponents=FORMS[name].exponents)
    r, h = np.linspace(2.8, 8.5, 20), 1e-6
    for (e_plus, e_minus, f) in zip(scheme.energy_terms(r + h), scheme.energy_terms(r - h), scheme.force_terms(r)):
        np.testing.assert_allclose(-(e_plus - e_minus) / (2 * h), f * r, rtol=1e-7)


def test_shifted_terms_vanish_at_the_cutoff():
    for form in FORMS.values():
        e_n, e_m = CutoffScheme(7.5, shift=True, exponents=form.exponents).energy_terms(np.array([7.5]))
        assert abs(e_n[0]) < 1e-22 and abs(e_m[0]) < 1e-18


@settings(max_examples=60, deadline=None)
@given(r=st.floats(0.5, 50.0), n=st.integers(4, 30), m=st.integers(1, 29))
def test_integer_powers_by_multiplication_equal_pow(r, n, m):
    if m >= n:
        m, n = n - 1 if n > 1 else 1, max(n, m + 1)
    e_n, e_m = CutoffScheme(None, exponents=(float(n), float(m))).energy_terms(np.array([r]))
    assert e_n[0] == pytest.approx(r ** -n, rel=1e-13) and e_m[0] == pytest.approx(r ** -m, rel=1e-13)


def test_tail_terms_are_the_integral_beyond_the_cutoff():
    from scipy.integrate import quad
    for form in FORMS.values():
        t_n, t_m = CutoffScheme(8.0, tail=True, exponents=form.exponents).tail_terms()
        for k, t in zip(form.exponents, (t_n, t_m)):
            assert t == pytest.approx(quad(lambda r: 2 * np.pi * r * r * r ** -k, 8.0, np.inf)[0], rel=1e-9)
    with pytest.raises(InputError, match="above 3"):
        CutoffScheme(8.0, tail=True, exponents=(6.0, 3.0)).tail_terms()
    with pytest.raises(InputError, match="needs a cutoff"):
        CutoffScheme(None, tail=True).tail_terms()


LAYOUTS = {
    **{rule: Layout(("Ar", "Kr", "Xe"), rule) for rule in RULES},
    "override": Layout(("Ar", "Kr", "Xe"), "geometric", ((0, 2), (1, 1))),
    "none": Layout(("Ar", "Kr", "Xe"), "none", ((0, 0), (0, 1), (1, 2), (2, 2))),
}


def theta_for(layout, rng):
    return np.array([rng.uniform(0.005, 0.02) if n.endswith("epsilon") else rng.uniform(3.0, 4.0)
                     for n in layout.names])


@pytest.mark.parametrize("case", list(LAYOUTS))
@pytest.mark.parametrize("name", list(FORMS))
def test_numpy_and_torch_give_the_same_coefficients(rng, case, name):
    from dataclasses import replace
    layout = replace(LAYOUTS[case], form=FORMS[name])
    theta = theta_for(layout, rng)
    eps_np, sigma_np = pair_tables(layout, theta)
    eps_t, sigma_t = pair_tables(layout, torch.as_tensor(theta))
    np.testing.assert_array_equal(np.isnan(eps_np), torch.isnan(eps_t).numpy())
    np.testing.assert_allclose(eps_t.numpy(), eps_np, rtol=1e-15)
    np.testing.assert_allclose(sigma_t.numpy(), sigma_np, rtol=1e-15)
    for c_np, c_t in zip(pair_coefficients(layout, theta), pair_coefficients(layout, torch.as_tensor(theta))):
        np.testing.assert_allclose(c_t.numpy(), c_np, rtol=1e-14)
    theta_t = torch.as_tensor(theta).requires_grad_(True)
    assert torch.autograd.gradcheck(lambda t: torch.cat(pair_coefficients(layout, t)), (theta_t,))


def test_overrides_and_undefined_pairs():
    layout = LAYOUTS["none"]
    eps, sigma = pair_tables(layout, np.arange(1.0, 9.0))
    assert eps[0, 1] == eps[1, 0] == 3.0 and sigma[2, 1] == 6.0
    assert np.isnan(eps[0, 2]) and np.isnan(eps[1, 1])
    c_n, c_m = pair_coefficients(layout, np.arange(1.0, 9.0))
    a, b = pair_types(3)
    undefined = [(x, y) in ((0, 2), (1, 1)) for x, y in zip(a, b)]
    assert np.all(c_n[undefined] == 0) and np.all(c_m[undefined] == 0) and np.all(c_n[~np.array(undefined)] > 0)


@pytest.mark.parametrize("rule", RULES)
@pytest.mark.parametrize("name", list(FORMS))
def test_linearised_rule_recovers_per_type_values_from_pair_values(rule, name):
    """The initial guess inverts form and rule exactly: per-type values -> C_n, C_m -> back."""
    from dataclasses import replace
    layout = replace(LAYOUTS[rule], form=FORMS[name])
    theta = np.array([0.010, 3.4, 0.014, 3.65, 0.019, 3.95])
    eps_pair, sigma_pair = pair_values(*pair_coefficients(layout, theta), FORMS[name])
    eps, sigma = per_type_values(layout, eps_pair, sigma_pair)
    np.testing.assert_allclose(np.ravel(np.column_stack([eps, sigma])), theta, rtol=1e-10)


def test_mixing_rules_have_their_engine_names():
    assert [MIXING[r].lammps for r in RULES] == ["arithmetic", "geometric", "sixthpower"]
    assert MIXING["lorentz-berthelot"].gromacs == 2 and MIXING["geometric"].gromacs == 3
    assert MIXING["lorentz-berthelot"].openmm == "NonbondedForce"


@pytest.mark.parametrize("text,label", [("lj", "lj"), ("LJ96", "lj96"), ("mie:14,6", "mie:14,6"),
                                        (" mie:12.5, 6 ", "mie:12.5,6")])
def test_parse_form(text, label):
    assert parse_form(text).label == label


@pytest.mark.parametrize("text,message", [("morse", "unknown potential"), ("mie", "mie:N,M"), ("mie:6,12", "N > M"),
                                          ("mie:14", "two numbers"), ("lj:12,6", "only mie"),
                                          ("mie:a,b", "two numbers"),
                                          ("mie:inf,6", "N > M"), ("mie:7,0", "N > M")])
def test_parse_form_errors(text, message):
    with pytest.raises(InputError, match=message):
        parse_form(text)


def test_params_and_potential_do_not_import_torch_or_the_model():
    code = ("import sys, fitcore.io.params_file, fitcore.io.export.lammps, fitcore.io.export.openmm; "
            "print(sorted(m for m in ('torch', 'fitcore.model', 'fitcore.moments') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.strip() == "[]"


@pytest.mark.parametrize("args", [["export", "{params}", "--to", "lammps"], ["export", "{params}", "--to", "openmm"],
                                  ["export", "{params}", "--to", "csv"], ["inspect", "{data}"]])
def test_export_and_inspect_do_not_import_torch(tmp_path, data_dir, args):
    from test_cli_support import truth_params, write_json
    params = write_json(tmp_path / "p.json", truth_params())
    argv = [a.format(params=params, data=data_dir / "oracle_slab.extxyz") for a in args]
    code = ("import sys; from click.testing import CliRunner; from cli.main import main; "
            f"r = CliRunner().invoke(main, {argv!r}); "
            "print(r.exit_code, 'torch' in sys.modules)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True).stdout
    assert out.split() == ["0", "False"]
