"""Per-atom columns that only some frames carry: never silently lost.

A numeric column (charges, say) that only some frames of a file have, or some files of a run, is kept
with NaN for the atoms of the others, so that ljfit names the first frame without it when it needs the
column (charges: an error; forces with --forces: a warning, the energies of such frames are still fitted).
"""
import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from test_cli_support import invoke

from fitcore import pipeline
from fitcore.coulomb import CoulombOptions
from fitcore.errors import InputError
from fitcore.io.inputs import DataOptions, load_dataset
from fitcore.io.xyz import read_structures
from fitcore.pipeline import Featurization, PendingFeaturization
from fitcore.moments import CutoffScheme

CELL = 'Lattice="10 0 0 0 10 0 0 0 10" pbc="T T T"'


def frame(name: str, charges=None, kind="R", forces=False, label=None, x=2.5) -> str:
    """Two atoms, Na and Cl, with optional charge column (of ``kind``), forces and a text column."""
    props = "species:S:1:pos:R:3" + (f":initial_charges:{kind}:1" if charges is not None else "") \
        + (":forces:R:3" if forces else "") + (":label:S:1" if label is not None else "")
    rows = []
    for k, (symbol, pos) in enumerate((("Na", "0 0 0"), ("Cl", f"{x} 0 0"))):
        row = f"{symbol} {pos}"
        if charges is not None:
            row += f" {charges[k]}"
        if forces:
            row += " 0.1 0 0" if k == 0 else " -0.1 0 0"
        if label is not None:
            row += f" {label}"
        rows.append(row)
    return f"2\n{CELL} Properties={props} energy=-1.0 name={name}\n" + "\n".join(rows) + "\n"


def write(path, text):
    path.write_text(text)
    return str(path)


def test_charges_missing_in_a_later_frame_of_one_file_name_it(tmp_path):
    path = write(tmp_path / "f.extxyz", frame("a", (1.0, -1.0)) + frame("b", (0.5, -0.5)) + frame("c"))
    dataset = load_dataset([path])
    assert np.isnan(dataset.extra["initial_charges"][4:]).all()  # kept, NaN where frame c has no column
    result = invoke(["fit", path, "--cutoff", "4"], code=1)
    assert result.stderr == f"error: {path}:10: frame c has no charges (column 'initial_charges') but other frames " \
                            f"do; every atom needs a charge when some have one\n"
    assert result.stdout == ""
    invoke(["predict", path, "--params", write_params(tmp_path)], code=1)


def test_charges_missing_in_the_first_frame_name_it(tmp_path):
    path = write(tmp_path / "f.extxyz", frame("a") + frame("b", (1.0, -1.0)))
    result = invoke(["fit", path, "--cutoff", "4"], code=1)
    assert f"{path}:2: frame a has no charges (column 'initial_charges') but other frames do" in result.stderr


def test_integer_and_real_charge_columns_mix(tmp_path):
    path = write(tmp_path / "f.extxyz", frame("a", (1, -1), kind="I") + frame("b", (0.5, -0.5)))
    dataset = load_dataset([path])
    np.testing.assert_array_equal(dataset.extra["initial_charges"], [1.0, -1.0, 0.5, -0.5])


def test_integer_charges_in_one_file_only_are_not_dropped(tmp_path):
    first = write(tmp_path / "a.extxyz", frame("a", (1, -1), kind="I"))
    second = write(tmp_path / "b.extxyz", frame("b"))
    result = invoke(["fit", first, second, "--cutoff", "4"], code=1)
    assert f"{second}:2: frame b has no charges (column 'initial_charges') but other frames do" in result.stderr


def test_pieces_read_by_workers_name_the_frame_too(tmp_path, monkeypatch):
    """A large file is read in pieces by worker processes: a piece without the column is named too."""
    monkeypatch.setattr(pipeline, "PARALLEL_BYTES", 1)
    monkeypatch.setattr(pipeline, "SPLIT_BYTES", 1_000)
    frames = [frame(f"a{k}", (1.0, -1.0)) for k in range(20)] + [frame(f"b{k}") for k in range(20)]
    path = write(tmp_path / "f.extxyz", "".join(frames))
    job = Featurization(data=DataOptions(), scheme=CutoffScheme(4.0, False), coulomb=CoulombOptions())
    with pytest.raises(InputError, match=r"f.extxyz:\d+: frame b\d+ has no charges"):
        PendingFeaturization([path], job, workers=2).result()


def write_params(tmp_path):
    path = tmp_path / "p.json"
    path.write_text('{"format": "ljfit-params/1", "mixing": "lorentz-berthelot", "cutoff": 4, "shift": false, '
                    '"species": {"Na": {"epsilon": 0.006, "sigma": 2.6}, "Cl": {"epsilon": 0.011, "sigma": 3.9}}}')
    return str(path)


def test_forces_in_some_frames_warn_with_forces(tmp_path):
    path = write(tmp_path / "f.extxyz", frame("a", forces=True) + frame("b", x=2.6)
                 + frame("c", forces=True, x=2.7) + frame("d", forces=True, x=2.8))
    result = invoke(["fit", path, "--cutoff", "4", "--forces", "--format", "csv"])
    assert f"warning: --forces: 1 of 4 frames carry no forces (the first: frame b, {path}:6); only their " \
           f"energies are fitted" in result.stderr
    assert "forces" not in invoke(["fit", path, "--cutoff", "4", "--format", "csv"]).stderr.split("warning")[-1]


# ---------------------------------------------------------------- property: the reader's column logic

LAYOUT = st.lists(st.tuples(st.sampled_from([None, "R", "I"]), st.booleans()), min_size=1, max_size=6)


@settings(max_examples=150, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(layout=LAYOUT)
def test_a_numeric_column_of_some_frames_is_kept_where_it_is_and_nan_elsewhere(tmp_path, layout):
    """Frames with or without a charge column (real or integer) and with or without a text column: the
    charges come back exactly where given and NaN elsewhere; the text column only when every frame has it."""
    text, want = "", []
    for k, (kind, labelled) in enumerate(layout):
        q = None if kind is None else ((k + 1, -(k + 1)) if kind == "I" else (0.25 * k, -0.25 * k))
        text += frame(f"f{k}", q, kind=kind or "R", label="x" if labelled else None)
        want += [np.nan, np.nan] if q is None else [float(v) for v in q]
    dataset = read_structures(write(tmp_path / "p.extxyz", text))
    if all(kind is None for kind, _ in layout):
        assert "initial_charges" not in dataset.extra
    else:
        np.testing.assert_array_equal(dataset.extra["initial_charges"], want)  # NaN compares equal here
    assert ("label" in dataset.extra) == all(labelled for _, labelled in layout)
