"""``ljfit fit``: fit epsilon and sigma (and offsets) to reference energies and forces."""
import click

from fitcore.spec import ALGORITHMS, LOSSES, METHODS, MIXING_CHOICES, OFFSETS

from ..options import (cluster_options, common_options, coulomb_options, data_options, init_file_or_uff,
                       interaction_options, parse_assignments, parse_bounds, potential_form, writable_path)
from ..output import guarded

EXAMPLE = """\b
Examples:
  ljfit fit sample_data/argon_mixture/mixture.extxyz --cutoff 8.5 --shift -o params.json
  ljfit fit structures/*.xyz --energies energies.csv --fragment-split 3 \\
      --interactions inter-fragment --fix Cu.sigma --method basinhopping --seed 1
  ljfit fit bulk.extxyz --cutoff 10 --tail --potential mie:14,6 -o params.json
\b
Parameter names: Ar.epsilon, Ar.sigma, Ar-Kr.epsilon (a pair override), offset,
offset.Ar. Values are in the units of --energy-unit/--length-unit.
Exit codes: 0 ok, 1 bad input or failed run, 2 usage error, 3 not converged.
"""


@click.command(epilog=EXAMPLE)
@data_options
@click.option("--cutoff", type=click.FloatRange(min=0, min_open=True),
              help="Cutoff radius (length unit). Required for periodic frames.")
@click.option("--shift/--no-shift", default=False, show_default=True,
              help="Shift pair energies to zero at the cutoff (LAMMPS pair_modify shift yes).")
@click.option("--tail", is_flag=True,
              help="Add the analytic energy of the pairs beyond the cutoff (LAMMPS pair_modify tail yes; bulk cells).")
@interaction_options
@coulomb_options
@click.option("--potential", default="lj", show_default=True, callback=potential_form, metavar="lj|lj96|mie:N,M",
              help="Pair form: lj (12-6, LAMMPS lj/cut), lj96 (9-6, lj/class2) or mie:N,M (mie/cut, N > M).")
@click.option("--mixing", type=click.Choice(MIXING_CHOICES),
              help="Mixing rule for unlike pairs (LAMMPS' rules)  [default: sixthpower for lj96, else "
                   "lorentz-berthelot]")
@click.option("--offset", type=click.Choice(OFFSETS), default="none", show_default=True,
              help="Fit an energy offset: a constant, or a reference energy per species times its count.")
@click.option("--forces/--no-forces", default=False, show_default=True, help="Fit forces too (frames that have them).")
@click.option("--force-weight", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Weight of force residuals relative to energy residuals.")
@click.option("--per-atom", is_flag=True, help="Fit energies per atom.")
@click.option("--init", "init", multiple=True, callback=parse_assignments, metavar="NAME=VALUE",
              help="Starting value of a parameter (repeatable).")
@click.option("--init-file", callback=init_file_or_uff, metavar="P.json|uff",
              help="Params file whose values are the starting point; uff: the UFF values of the types "
                   "(chemical elements; ./uff for a file named uff).")
@click.option("--fix", multiple=True, metavar="NAME", help="Keep a parameter at its starting value (repeatable).")
@click.option("--bound", "bounds", multiple=True, callback=parse_bounds, metavar="NAME=LOW:HIGH",
              help="Bounds of a parameter; either side may be empty (repeatable).")
@click.option("--multistart/--no-multistart", default=True, show_default=True,
              help="Also start from UFF values when the types are chemical elements; keep the best minimum.")
@click.option("--prior", callback=init_file_or_uff, metavar="uff|P.json",
              help="Gaussian priors on log epsilon and log sigma centred on UFF or a params file's values.")
@click.option("--prior-width", type=click.FloatRange(min=0, min_open=True), default=0.2, show_default=True,
              help="Relative width of the priors (standard deviation of log epsilon, log sigma).")
@click.option("--prior-weight", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Weight of the priors, times the data's noise scale (RMS weighted residual without them).")
@click.option("--cv", type=click.IntRange(min=2), help="K-fold cross-validation: held-out RMSE and MAE per fold.")
@click.option("--cv-group", default="frame", show_default=True, metavar="frame|file|KEY",
              help="Keep frames together in the folds: each frame, each file, or each value of an info key.")
@click.option("--bootstrap", type=click.IntRange(min=1), help="Refit N resamples of the frames: 95%% intervals.")
@click.option("--test", "test_files", multiple=True, type=click.Path(exists=True, dir_okay=False),
              help="Held-out structures (repeatable): errors of the fitted parameters on them, not fitted.")
@click.option("--test-energies", type=click.Path(exists=True, dir_okay=False),
              help="Energies table for the --test structures.")
@click.option("--method", type=click.Choice(METHODS), default="lsq", show_default=True)
@click.option("--algorithm", type=click.Choice(ALGORITHMS), default="trf", show_default=True,
              help="least_squares method (lm: no bounds).")
@click.option("--loss", type=click.Choice(LOSSES), default="linear",
              show_default=True, help="Robust loss of least_squares.")
@click.option("--f-scale", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Soft margin between inlier and outlier residuals (robust losses).")
@click.option("--ftol", type=click.FloatRange(min=0), default=1e-12, show_default=True)
@click.option("--xtol", type=click.FloatRange(min=0), default=1e-12, show_default=True)
@click.option("--gtol", type=click.FloatRange(min=0), default=1e-12, show_default=True)
@click.option("--max-nfev", type=click.IntRange(min=1), help="Most function evaluations (per local fit).")
@click.option("--niter", type=click.IntRange(min=1), default=100, show_default=True, help="Basin-hopping hops.")
@click.option("--step-size", type=click.FloatRange(min=0, min_open=True), default=1.0, show_default=True,
              help="Basin-hopping step in (log epsilon, sigma) space.")
@click.option("--temperature", type=click.FloatRange(min=0), default=1.0, show_default=True,
              help="Basin-hopping temperature, relative to the cost of the first local minimum.")
@click.option("--seed", type=int, help="Seed of every random choice (default: drawn and recorded).")
@click.option("--output", "-o", type=click.Path(dir_okay=False), callback=writable_path,
              help="Write the fitted ljfit-params/1 file.")
@click.option("--residuals", type=click.Path(dir_okay=False), callback=writable_path,
              help="Write per-frame residuals (CSV).")
@click.option("--plot", type=click.Path(dir_okay=False), callback=writable_path,
              help="Write a parity plot (PNG, PDF, SVG).")
@click.option("--cache", type=click.Path(file_okay=False), help="Folder caching moments between runs.")
@cluster_options
@common_options
@guarded
def fit(**kw):
    """Fit Lennard-Jones epsilon and sigma per type (or per pair) to the
    reference energies, and forces with --forces, of FILES."""
    from ..fitting import run_fit_command
    return run_fit_command(kw, click.get_current_context().obj)
