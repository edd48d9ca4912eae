"""The closed-form coefficient map (numpy) against torch autograd through model.coefficients,
and against central finite differences, for every mixing rule with pair overrides and offsets."""
import numpy as np
import pytest
import torch

from fitcore.coefficient_map import CoefficientMap
from fitcore.model import coefficients
from fitcore.params import Layout
from fitcore.potential import form_named, mie


def layouts():
    for mixing in ("lorentz-berthelot", "geometric", "sixthpower"):
        yield Layout(("A", "B", "C"), mixing)
        yield Layout(("A", "B", "C"), mixing, ((0, 1), (2, 2)), "constant")
    yield Layout(("A", "B", "C"), "none", ((0, 0), (0, 1), (1, 2)), "per-species", ("A", "B"))
    yield Layout(("A", "B", "C"), "sixthpower", ((0, 1),), form=form_named("lj96"))
    yield Layout(("A", "B", "C"), "lorentz-berthelot", form=mie(14, 7))


def random_theta(layout, rng):
    n = len(layout.names)
    theta = np.where(np.arange(n) % 2 == 0, rng.uniform(0.002, 0.03, n), rng.uniform(2.2, 4.5, n))
    theta[layout.n_lj:] = rng.normal(size=n - layout.n_lj)
    return theta


def torch_map(layout, theta):
    def c(t):
        return torch.cat([*coefficients(layout, t), t[layout.n_lj:]])
    t = torch.as_tensor(theta, dtype=torch.float64)
    return c(t).numpy(), torch.autograd.functional.jacobian(c, t).numpy()


@pytest.mark.parametrize("layout", list(layouts()), ids=lambda lay: f"{lay.form.label}-{lay.mixing}-{len(lay.pairs)}pairs-{lay.offset}")
def test_map_equals_autograd_and_finite_differences(layout):
    rng = np.random.default_rng(7)
    cmap = CoefficientMap(layout)
    for _ in range(5):
        theta = random_theta(layout, rng)
        c, dc = cmap(theta)
        c_ref, dc_ref = torch_map(layout, theta)
        np.testing.assert_allclose(c, c_ref, rtol=1e-13, atol=0)
        np.testing.assert_allclose(dc, dc_ref, rtol=1e-12, atol=1e-14 * np.abs(dc_ref).max())
        h = 1e-6 * np.maximum(np.abs(theta), 1e-3)
        fd = np.stack([(cmap(theta + h[k] * np.eye(len(theta))[k])[0] - cmap(theta - h[k] * np.eye(len(theta))[k])[0])
                       / (2 * h[k]) for k in range(len(theta))], axis=1)
        np.testing.assert_allclose(dc, fd, rtol=1e-6, atol=1e-9 * np.abs(fd).max())
