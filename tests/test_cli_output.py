"""Output discipline of ``ljfit``: data on stdout in the asked format, people's messages on
stderr, a fast ``--help`` that does not import torch."""
import csv
import io
import json
import os
import subprocess
import sys
import time
from pathlib import Path

import pytest
from test_cli_support import ORACLE, invoke, small, truth_file  # noqa: F401

ROOT = Path(__file__).parent.parent


def energies_table(path: Path, rows: dict) -> Path:
    path.write_text("name,energy\n" + "".join(f"{k},{v!r}\n" for k, v in rows.items()))
    return path


@pytest.fixture
def unmatched_table(small, tmp_path) -> Path:
    """An energies table whose second row matches no frame (a warning), the first one matches."""
    return energies_table(tmp_path / "energies.csv", {"small:0": -2.924675878264, "nosuch": 1.0})


def test_help_does_not_import_torch():
    code = ("import sys, time; t = time.perf_counter()\n"
            "from cli.main import main\n"
            "try:\n    main(['--help'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            "heavy = [m for m in ('torch', 'numpy', 'scipy') if m in sys.modules]\n"
            "assert not heavy, heavy\n"
            "print(time.perf_counter() - t, file=sys.stderr)\n")
    start = time.perf_counter()
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    wall = time.perf_counter() - start
    assert done.returncode == 0, done.stderr
    assert "Usage: " in done.stdout and "Quick start" in done.stdout
    assert float(done.stderr.split()[-1]) < 1.0  # in-process time of import + help
    assert wall < 10.0  # interpreter start included; generous for loaded machines


@pytest.mark.parametrize("command", ["inspect", "fit", "predict", "export"])
def test_command_help_does_not_import_torch(command):
    code = (f"import sys\nfrom cli.main import main\n"
            f"try:\n    main([{command!r}, '--help'])\nexcept SystemExit as e:\n    assert e.code == 0, e.code\n"
            f"assert 'torch' not in sys.modules\n")
    done = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr


# ---------------------------------------------------------------- formats


def test_auto_is_csv_when_piped(small):
    auto = invoke(["inspect", small]).stdout
    assert auto == invoke(["inspect", small, "--format", "csv"]).stdout
    assert auto.splitlines()[0] == "pair,count,min_distance"


def test_auto_is_table_on_a_terminal(small, monkeypatch):
    from cli import output
    monkeypatch.setattr(output.sys.stdout, "isatty", lambda: True, raising=False)
    assert output.resolve_format("auto") == "table"
    monkeypatch.setattr(output.sys.stdout, "isatty", lambda: False, raising=False)
    assert output.resolve_format("auto") == "csv"


@pytest.mark.parametrize("command", ["inspect", "fit"])
def test_csv_is_plain(small, command):
    args = [command, small, *(ORACLE if command == "fit" else []), "--format", "csv"]
    text = invoke(args).stdout
    rows = list(csv.reader(io.StringIO(text)))
    width = len(rows[0])
    assert all(len(r) == width for r in rows)
    assert rows[0][0] in ("pair", "parameter")
    assert len(rows) == 1 + 6  # six pair types, or six parameters
    assert not any(c in text for c in "│┃━─#")  # no table decoration, no comments


def test_table_format(small, truth_file):
    text = invoke(["predict", small, "--params", truth_file, "--format", "table"]).stdout
    assert "Predicted energies" in text and "small:0" in text and "RMSE" in text


def test_inspect_json_top_level(small):
    data = json.loads(invoke(["inspect", small, "--format", "json"]).stdout)
    assert data["frames"] == 6 and data["atoms"] == 384


def test_fit_json_top_level(small):
    data = json.loads(invoke(["fit", small, *ORACLE, "--forces", "--format", "json"]).stdout)
    assert {"species", "pairs", "statistics"} <= set(data)
    assert data["statistics"]["energy"]["n"] == 6


def test_json_parses_with_warnings(small, unmatched_table):
    for args in (["inspect", small], ["fit", small, *ORACLE, "--forces"]):
        result = invoke([*args, "--energies", unmatched_table, "--format", "json"])
        json.loads(result.stdout)
        assert "warning: " in result.stderr and "nosuch" in result.stderr
        assert "warning:" not in result.stdout


def test_stdout_is_data_only(small, tmp_path, unmatched_table):
    out = tmp_path / "p.json"
    result = invoke(["fit", small, *ORACLE, "--forces", "--energies", unmatched_table, "-o", out])
    assert result.stdout.splitlines()[0] == "parameter,value,stderr,unit,flags"
    assert "wrote" not in result.stdout and "wrote" in result.stderr


def test_quiet_silences_stderr(small, tmp_path, unmatched_table):
    out = tmp_path / "p.json"
    result = invoke(["fit", small, *ORACLE, "--forces", "--energies", unmatched_table, "-o", out, "--quiet"])
    assert result.stderr == "" and out.exists() and result.stdout
    # errors still come through
    result = invoke(["fit", small, "-q"], code=1)
    assert result.stderr.startswith("error: ")


def test_export_quiet(truth_file, tmp_path):
    assert invoke(["export", truth_file, "--to", "csv", "-o", tmp_path / "x.csv", "-q"]).stderr == ""


@pytest.mark.parametrize("args", [["fit", "--format", "json"], ["fit", "--format", "csv", "--debug"]])
def test_not_converged_keeps_stdout_clean(small, tmp_path, args):
    out = tmp_path / "p.json"
    result = invoke([args[0], small, *ORACLE, "--init", "Ar.epsilon=0.05", "--max-nfev", "1", "-o", out,
                     *args[1:]], code=3)
    if "json" in args:
        json.loads(result.stdout)
    assert "did not converge" in result.stderr and "did not converge" not in result.stdout


def test_written_files_respect_umask(small, tmp_path):
    """Files from -o are created like any other file (umask), not with mkstemp's 0600."""
    out = tmp_path / "p.json"
    old = os.umask(0o022)
    try:
        invoke(["fit", small, *ORACLE, "--forces", "-o", out, "-q"])
    finally:
        os.umask(old)
    assert out.stat().st_mode & 0o777 == 0o644
    out.chmod(0o640)  # rewriting keeps an existing file's permissions
    invoke(["fit", small, *ORACLE, "--forces", "-o", out, "-q"])
    assert out.stat().st_mode & 0o777 == 0o640


def test_params_file_same_for_every_format(small, tmp_path):
    """--format json moves the statistics to the top of stdout; the params file keeps them in "fit"."""
    files = {}
    for fmt in ("json", "csv", "table"):
        out = tmp_path / f"{fmt}.json"
        result = invoke(["fit", small, *ORACLE, "--forces", "--format", fmt, "-o", out, "-q"])
        files[fmt] = json.loads(out.read_text())
    stdout = json.loads(invoke(["fit", small, *ORACLE, "--forces", "--format", "json"]).stdout)
    for data in files.values():
        assert data["fit"]["statistics"] == files["csv"]["fit"]["statistics"] == stdout["statistics"]
        assert data["species"] == files["csv"]["species"]
    assert "statistics" not in stdout["fit"]
    assert "Fitted parameters" in result.stdout  # the table of the last run


def test_inspect_table(small):
    text = invoke(["inspect", small, "--format", "table"]).stdout
    assert "frames" in text and "Ar-Kr" in text and "Types" in text


def test_stdin_input(small):
    data = json.loads(invoke(["inspect", "-", "--format", "json"], input=small.read_text()).stdout)
    assert data["frames"] == 6 and data["files"] == ["<stdin>"]


def test_predict_plot_needs_references(tmp_path, truth_file):
    bare = tmp_path / "bare.xyz"
    bare.write_text("2\nno energy\nAr 0 0 0\nAr 0 0 3.8\n")
    result = invoke(["predict", bare, "--params", truth_file, "--plot", tmp_path / "p.png"], code=2)
    assert result.stdout == "" and "--plot" in result.stderr and not (tmp_path / "p.png").exists()


def test_predict_without_references(tmp_path, truth_file):
    bare = tmp_path / "bare.xyz"
    bare.write_text("2\nno energy\nAr 0 0 0\nAr 0 0 3.8\n")
    row = invoke(["predict", bare, "--params", truth_file]).stdout.splitlines()[1].split(",")
    assert row[:3] == ["bare", "2", ""] and float(row[3]) < 0 and row[4] == ""
    data = json.loads(invoke(["predict", bare, "--params", truth_file, "--format", "json"]).stdout)
    frame = data["frames"][0]
    assert frame["energy_ref"] is None and frame["residual"] is None and frame["energy_pred"] < 0
    assert data["statistics"] is None


@pytest.mark.xfail(reason="fitcore/result.py covariance(): with as many residuals as free parameters s2 = inf, and "
                          "inf * 0 in the matmul leaks a numpy RuntimeWarning to the user", strict=True)
def test_no_numpy_warning_when_data_equal_parameters(small):
    result = invoke(["fit", small, *ORACLE])  # 6 energies, 6 parameters
    assert "invalid value" not in result.stderr
