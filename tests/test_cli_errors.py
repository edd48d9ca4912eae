"""Exit codes and error messages of ``ljfit``; nothing half written; --config files.

0 success, 1 bad input or a failed run (one ``error: ...`` line, no traceback unless
--debug), 2 usage error, 3 the fit did not converge (files still written), 130 interrupted.
"""
import json
import os
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from test_cli_support import ORACLE, invoke, truth_params, write_json

from fitcore.errors import InputError

ROOT = Path(__file__).parent.parent


def stderr_lines(result) -> list[str]:
    """stderr without the ``warning: ...`` lines that may precede an error (e.g. thin periodic cells)."""
    return [line for line in result.stderr.strip().splitlines() if not line.startswith("warning: ")]


def assert_one_error_line(result, *fragments: str, stdout_empty: bool = True) -> str:
    """stderr is exactly one ``error: ...`` line naming every fragment; stdout is empty (unless told)."""
    lines = stderr_lines(result)
    assert len(lines) == 1, result.stderr
    assert lines[0].startswith("error: ") and "Traceback" not in result.stderr
    for fragment in fragments:
        assert fragment in lines[0], (fragment, lines[0])
    assert result.stdout == "" or not stdout_empty
    return lines[0]


def noisy(small: Path, tmp_path: Path, scale=1e-3) -> Path:
    """``small`` with seeded noise on every energy, so no parameters fit it exactly."""
    rng = np.random.default_rng(7)
    text = re.sub(r"energy=(\S+)", lambda m: f"energy={float(m.group(1)) + scale * rng.standard_normal()!r}",
                  small.read_text())
    out = tmp_path / "noisy.extxyz"
    out.write_text(text)
    return out


# ---------------------------------------------------------------- exit 1: bad input


def test_unparsable_file(tmp_path):
    bad = tmp_path / "bad.xyz"
    bad.write_text("2\ncomment\nAr 0 0 0\nAr 0 0 zero\n")
    result = invoke(["fit", bad, "--cutoff", "8.5"], code=1)
    assert_one_error_line(result, f"{bad}:4")
    assert_one_error_line(invoke(["inspect", bad], code=1), str(bad))


def test_missing_input_file_is_a_usage_error(tmp_path):
    """Like a missing --energies or --params file (click's convention, README: exit 2)."""
    result = invoke(["inspect", tmp_path / "nothere.xyz"], code=2)
    assert "nothere.xyz: no such file" in result.stderr and "Traceback" not in result.stderr
    assert "no file matches" in invoke(["inspect", str(tmp_path / "*.nothing")], code=2).stderr


@pytest.mark.parametrize("option", [["-o"], ["--residuals"], ["--plot"]])
def test_output_folder_is_checked_before_any_work(small, tmp_path, option):
    result = invoke(["fit", small, *ORACLE, *option, tmp_path / "missing" / "out.json"], code=2)
    assert "does not exist" in result.stderr and result.stdout == ""


def test_bad_values_are_usage_errors(small):
    assert "'gpu' is not a torch device" in invoke(["fit", small, *ORACLE, "--device", "gpu"], code=2).stderr
    assert "must be positive" in invoke(["fit", small, *ORACLE, "--init", "Ar.sigma=-1"], code=2).stderr
    invoke(["fit", small, "--cutoff", "-1"], code=2)


def test_missing_energies(small, tmp_path):
    bare = tmp_path / "bare.extxyz"
    bare.write_text(re.sub(r"energy=\S+ ", "", small.read_text()))
    assert_one_error_line(invoke(["fit", bare, *ORACLE], code=1), "no energy", "--energies")


def test_periodic_without_cutoff(small):
    assert_one_error_line(invoke(["fit", small], code=1), "periodic", "--cutoff")


def test_periodic_params_without_cutoff(small, tmp_path):
    no_cutoff = write_json(tmp_path / "nocut.json", truth_params(cutoff=None))
    assert_one_error_line(invoke(["predict", small, "--params", no_cutoff], code=1), "nocut.json", "cutoff")


def test_unknown_fix_name_is_a_usage_error_naming_the_option(small):
    stderr = invoke(["fit", small, *ORACLE, "--fix", "Zz.sigma"], code=2).stderr
    assert "for --fix" in stderr and "Zz.sigma" in stderr and "Ar.sigma" in stderr and "Traceback" not in stderr


def test_unknown_init_name(small):
    stderr = invoke(["fit", small, *ORACLE, "--init", "Ar.sgima=3"], code=2).stderr
    assert "for --init" in stderr and "Ar.sgima" in stderr


def test_offset_name_without_offset_option_hints(small):
    stderr = invoke(["fit", small, *ORACLE, "--fix", "offset"], code=2).stderr
    assert "--offset constant" in stderr


def test_output_folder_missing(small, tmp_path):
    out = tmp_path / "no" / "such" / "p.json"
    result = invoke(["fit", small, *ORACLE, "--forces", "-o", out, "-q"], code=2)
    assert str(out.parent) in result.stderr and not out.parent.exists()


@pytest.mark.parametrize("change, fragments", [
    (lambda d: d.update(colour="red"), ["unknown key", "colour"]),
    (lambda d: d["species"]["Kr"].update(sgma=3.0), ["Kr", "unknown key", "sgma"]),
    (lambda d: d["species"]["Kr"].update(epsilon=-0.01), ["Kr", "epsilon", "positive"]),
    (lambda d: d["species"]["Xe"].update(sigma=0), ["Xe", "sigma", "positive"]),
    (lambda d: d["species"]["Ar"].pop("sigma"), ["Ar", "sigma"]),
    (lambda d: d.update(format="ljfit-params/9"), ["ljfit-params/1"]),
], ids=["unknown-key", "unknown-entry-key", "negative-epsilon", "zero-sigma", "no-sigma", "format"])
def test_bad_params_file(small, tmp_path, change, fragments):
    data = truth_params()
    change(data)
    path = write_json(tmp_path / "bad.json", data)
    for args in (["predict", small, "--params", path], ["export", path, "--to", "lammps"],
                 ["fit", small, *ORACLE, "--init-file", path]):
        assert_one_error_line(invoke(args, code=1), "bad.json", *fragments)


def test_params_missing_a_species(small, tmp_path):
    data = truth_params()
    del data["species"]["Xe"]
    path = write_json(tmp_path / "two.json", data)
    assert_one_error_line(invoke(["predict", small, "--params", path], code=1), "Xe")


def test_params_not_json(small, tmp_path):
    path = tmp_path / "p.json"
    path.write_text("{not json")
    assert_one_error_line(invoke(["predict", small, "--params", path], code=1), "p.json", "JSON")


@pytest.mark.skipif(__import__("torch").cuda.is_available(), reason="needs a machine without CUDA")
def test_device_unavailable(small, truth_file):
    assert_one_error_line(invoke(["predict", small, "--params", truth_file, "--device", "cuda"], code=1),
                          "--device", "CUDA")


def test_debug_raises(small):
    result = invoke(["fit", small, "--debug"], code=1)
    assert isinstance(result.exception, InputError) and "periodic" in str(result.exception)


def test_debug_prints_traceback(small):
    code = "import sys\nfrom cli.main import main\nmain(sys.argv[1:])"
    plain = subprocess.run([sys.executable, "-c", code, "fit", str(small)], cwd=ROOT, capture_output=True,
                           text=True, timeout=120)
    debug = subprocess.run([sys.executable, "-c", code, "fit", str(small), "--debug"], cwd=ROOT,
                           capture_output=True, text=True, timeout=120)
    assert plain.returncode == debug.returncode == 1
    assert "Traceback" not in plain.stderr and plain.stderr.startswith("error: ")
    assert "Traceback" in debug.stderr and "InputError" in debug.stderr


def test_unexpected_error_is_one_line(small, monkeypatch):
    import fitcore.fitting

    def broken(*args, **kwargs):
        raise RuntimeError("something broke")
    monkeypatch.setattr(fitcore.fitting, "fit_dataset", broken)
    line = assert_one_error_line(invoke(["fit", small, *ORACLE], code=1), "RuntimeError", "something broke")
    assert "--debug" in line


# ---------------------------------------------------------------- exit 2: usage


@pytest.mark.parametrize("args, fragment", [
    (["fit", "{small}", "--bogus"], "--bogus"),
    (["fit", "{small}", "--mixing", "lb2"], "--mixing"),
    (["fit", "{small}", "--format", "xml"], "--format"),
    (["fit"], "FILES"),
    (["inspect"], "FILES"),
    (["predict", "{small}"], "--params"),
    (["export", "--to", "lammps"], "PARAMS"),
    (["export", "{small}", "--to", "namd"], "--to"),
    (["fit", "{small}", "--init", "Ar.sigma"], "NAME=VALUE"),
    (["fit", "{small}", "--init", "Ar.sigma=big"], "NAME=VALUE"),
    (["fit", "{small}", "--bound", "Ar.sigma=3"], "NAME=LOW:HIGH"),
    (["fit", "{small}", "--bound", "Ar.sigma=4:3"], "LOW < HIGH"),
    (["fit", "{small}", "--bound", "Ar.sigma=a:b"], "NAME=LOW:HIGH"),
    (["fit", "{small}", "--max-nfev", "0"], "--max-nfev"),
    (["fit", "{small}", "--energies", "{missing}"], "--energies"),
    (["predict", "{small}", "--params", "{missing}"], "--params"),
    (["inspect", "{small}", "--cutoff", "0"], "--cutoff"),
    (["fit", "{small}", "--threads", "0"], "--threads"),
])
def test_usage_errors(small, tmp_path, args, fragment):
    args = [a.format(small=small, missing=tmp_path / "missing.csv") for a in args]
    result = invoke(args, code=2)
    assert fragment in result.stderr and "Traceback" not in result.stderr
    assert result.stdout == ""


def test_unknown_command():
    assert "nosuch" in invoke(["nosuch"], code=2).stderr


# ---------------------------------------------------------------- exit 3: not converged


def test_not_converged_on_noisy_data(small, tmp_path):
    data, out, res = noisy(small, tmp_path), tmp_path / "p.json", tmp_path / "r.csv"
    result = invoke(["fit", data, *ORACLE, "--max-nfev", "1", "-o", out, "--residuals", res], code=3)
    assert "did not converge" in result.stderr
    params = json.loads(out.read_text())
    assert params["fit"]["statistics"]["energy"]["n"] == 6 and res.read_text().startswith("name,")
    # the same data with room to converge: exit 0
    invoke(["fit", data, *ORACLE, "--forces", "-o", out, "-q"])


def test_not_converged_from_far_init(small, tmp_path):
    out = tmp_path / "p.json"
    invoke(["fit", small, *ORACLE, "--forces", "--init", "Ar.epsilon=0.05", "--init", "Kr.sigma=4.5",
            "--max-nfev", "1", "-o", out, "-q"], code=3)
    assert json.loads(out.read_text())["format"] == "ljfit-params/1"


# ---------------------------------------------------------------- nothing half written; Ctrl-C


def files_in(folder: Path) -> set[str]:
    return {p.name for p in folder.iterdir()}


@pytest.mark.parametrize("error, code", [(OSError(28, "No space left on device"), 1), (KeyboardInterrupt(), 130)],
                         ids=["disk-full", "interrupt"])
@pytest.mark.parametrize("option", ["-o", "--residuals"])
def test_crash_while_writing(small, tmp_path, monkeypatch, option, error, code):
    target = tmp_path / "out.file"
    target.write_text("old contents\n")
    before = files_in(tmp_path)

    def fail(fd):
        raise error
    monkeypatch.setattr(os, "fsync", fail)
    result = invoke(["fit", small, *ORACLE, "--forces", option, target, "--format", "json"], code=code)
    assert target.read_text() == "old contents\n"
    assert files_in(tmp_path) == before  # no temp file left behind
    lines = stderr_lines(result)
    assert len(lines) == 1 and lines[0].startswith("error: ") and "Traceback" not in result.stderr
    if code == 1:
        assert lines[0] == f"error: {target}: cannot write: No space left on device"
    else:
        assert lines[0] == "error: interrupted"


def test_crash_while_writing_new_file(small, tmp_path, monkeypatch):
    target = tmp_path / "new.json"

    def fail(src, dst):
        raise OSError(5, "Input/output error")
    monkeypatch.setattr(os, "replace", fail)
    result = invoke(["fit", small, *ORACLE, "--forces", "-o", target], code=1)
    monkeypatch.undo()
    assert files_in(tmp_path) == {"small.extxyz"}
    assert_one_error_line(result, str(target), "Input/output error", stdout_empty=False)  # the report came first


def test_output_is_a_folder(small, tmp_path, truth_file):
    folder = tmp_path / "out"
    folder.mkdir()
    for args in (["fit", small, *ORACLE, "--forces", "-o", folder], ["export", truth_file, "--to", "csv", "-o", folder],
                 ["predict", small, "--params", truth_file, "--write-structures", folder]):
        assert "is a directory" in invoke(args, code=2).stderr
    assert not any(folder.iterdir())


@pytest.mark.parametrize("where", ["fitcore.pipeline.featurize_pieces", "fitcore.fitting.fit_dataset",
                                   "fitcore.pipeline.compute_moments"])
def test_interrupt_exits_130(small, tmp_path, monkeypatch, where):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr(where, interrupted)
    out = tmp_path / "p.json"
    result = invoke(["fit", small, *ORACLE, "-o", out], code=130)
    assert stderr_lines(result) == ["error: interrupted"]
    assert result.stdout == "" and not out.exists()


def test_interrupt_in_predict(small, truth_file, monkeypatch):
    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt
    monkeypatch.setattr("fitcore.predicting.predict_parts", interrupted)
    result = invoke(["predict", small, "--params", truth_file], code=130)
    assert stderr_lines(result) == ["error: interrupted"]


# ---------------------------------------------------------------- --config


def fit_json(*args) -> dict:
    return json.loads(invoke(["fit", *args, "--format", "json", "-q"]).stdout)


def test_config_supplies_options(small, tmp_path):
    config = tmp_path / "ljfit.toml"
    config.write_text('cutoff = 8.5\nshift = true\nforces = true\nfix = ["Ar.sigma"]\ninit = ["Ar.sigma=3.3"]\n')
    data = fit_json(small, "--config", config)
    assert data["cutoff"] == 8.5 and data["shift"] is True and data["species"]["Ar"]["sigma"] == 3.3
    assert data["statistics"]["forces"]["n"] == 6 * 64 * 3


def test_command_line_overrides_config(small, tmp_path):
    config = tmp_path / "ljfit.toml"
    config.write_text("cutoff = 8.5\nshift = true\n")
    for args in (["--config", config, "--cutoff", "7", "--no-shift"], ["--cutoff", "7", "--no-shift", "--config",
                                                                         config]):
        data = fit_json(small, "--forces", *args)
        assert data["cutoff"] == 7.0 and data["shift"] is False


def direct_engines(monkeypatch) -> list:
    """Records every DirectEngine built in this process (the CLI runs in-process under CliRunner)."""
    import fitcore.model
    built = []

    class Recorded(fitcore.model.DirectEngine):
        def __init__(self, *args, **kwargs):
            built.append(self)
            super().__init__(*args, **kwargs)

    monkeypatch.setattr(fitcore.model, "DirectEngine", Recorded)
    return built


def test_config_sections(small, tmp_path, truth_file, monkeypatch):
    config = tmp_path / "ljfit.toml"
    config.write_text('[fit]\ncutoff = 8.5\nshift = true\nmax-nfev = 500\n[predict]\nengine = "direct"\n')
    built = direct_engines(monkeypatch)
    data = fit_json(small, "--forces", "--config", config)
    assert data["cutoff"] == 8.5 and data["fit"]["options"]["max_nfev"] == 500
    assert data["fit"]["options"]["engine"] == "moments" and not built  # [predict] does not reach fit
    invoke(["predict", small, "--params", truth_file, "--config", config])
    assert len(built) == 1  # [predict] engine = "direct" took effect


def test_config_format_key(small, tmp_path):
    """Keys are option names: ``format`` for --format (whose Python name is fmt)."""
    config = tmp_path / "ljfit.toml"
    config.write_text('format = "json"\nquiet = true\n')
    result = invoke(["inspect", small, "--config", config])
    assert json.loads(result.stdout)["frames"] == 6 and result.stderr == ""


def test_one_config_for_every_command(small, tmp_path, truth_file, monkeypatch):
    """Top-level keys serve the commands that have the option; the others skip them."""
    config = tmp_path / "ljfit.toml"
    config.write_text('cutoff = 8.5\nshift = true\nforces = true\n[predict]\nengine = "direct"\n')
    built = direct_engines(monkeypatch)
    assert fit_json(small, "--config", config)["cutoff"] == 8.5
    assert json.loads(invoke(["inspect", small, "--config", config, "--format", "json"]).stdout)["cutoff"] == 8.5
    invoke(["predict", small, "--params", truth_file, "--config", config])
    assert len(built) == 1


@pytest.mark.parametrize("text, fragment", [
    ("cutof = 8.5\n", "cutof"),
    ("[fit]\nbogus = 1\n", "bogus"),
    ("[fit]\nto = \"lammps\"\n", "'to' for ljfit fit"),
    ("[fitt]\ncutoff = 8.5\n", "[fitt]"),
    ("cutoff = \n", "ljfit.toml"),
])
def test_bad_config_is_usage_error(small, tmp_path, text, fragment):
    config = tmp_path / "ljfit.toml"
    config.write_text(text)
    result = invoke(["fit", small, "--config", config], code=2)
    assert fragment in result.stderr and "--config" in result.stderr and result.stdout == ""


def test_missing_config_is_usage_error(small, tmp_path):
    assert "nothere.toml" in invoke(["fit", small, "--config", tmp_path / "nothere.toml"], code=2).stderr
