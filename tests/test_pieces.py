"""A large file read in byte-range pieces (each worker finding its own first frame) gives exactly what
one whole-file read gives: the same frames, names and line numbers, and the same error, wherever the
file is cut and whatever odd lines fool the sync (property tests against ``read_structures``)."""
import os

import numpy as np
import pytest
from hypothesis import HealthCheck, assume, event, given, settings
from hypothesis import strategies as st

from fitcore import pipeline
from fitcore.errors import InputError
from fitcore.io.inputs import DataOptions
from fitcore.io.pieces import FilePart, PartWindow, byte_ranges, split_mode
from fitcore.io.xyz import ReadOptions, read_part, read_structures
from fitcore.pipeline import Featurization, PendingFeaturization, Task, featurize_pieces, gather, settle

FIELDS = ("positions", "frame_offsets", "species_index", "type_index", "cells", "pbc", "energies", "weights",
          "first_atom_line")
COMMENTS = ["energy=-1.5 name=f{i}", "energy=-2.5", "{n_less}", "{n}", "{n_more}", "", "  3  ", "0",
            'Lattice="9 0 0 0 9 0 0 0 9" pbc="T T T" energy=-1.0', "energy=-1 weight=2 name=g{i}"]
DEFECTS = [None, None, None, "digit atom line", "short atom line", "count not a number", "count too large",
           "count too small", "nan", "zero count", "bad key", "singular cell", "nul"]


class Now:
    """A task run when its result is asked for, like a future (errors raised there)."""

    def __init__(self, task: Task, job: Featurization, log: list):
        self.task, self.job, self.log = task, job, log

    def result(self):
        self.log.append(self.task)
        return featurize_pieces(self.task.pieces, self.job, self.task.share)


def read_in_pieces(path: str, cuts: list[int], options: ReadOptions = ReadOptions()):
    """(dataset, tasks read again) of ``path`` cut at byte offsets ``cuts``, through settle and gather."""
    job = Featurization(data=DataOptions(read=options), scheme=None)
    size = os.path.getsize(path)
    bounds = [0] + sorted({c for c in cuts if 0 < c < size}) + [size]
    tasks = [Task([(path, FilePart(start=a, end=b, first_line=1 if a == 0 else None))])
             for a, b in zip(bounds, bounds[1:])]
    reruns: list[Task] = []
    futures = [Now(task, job, []) for task in tasks]
    settled = settle(futures, tasks, lambda task: Now(task, job, reruns).result(), options)
    return gather(settled, tasks, job)[0], reruns


@st.composite
def xyz_texts(draw):
    """Files of 1-8 frames (plain and extended XYZ), comment lines that are often numbers (a count's
    look-alike, right for a frame one atom shorter or longer), and at most one defect."""
    lines, kinds = [], []
    for i in range(draw(st.integers(1, 8))):
        n = draw(st.integers(1, 4))
        lines.append(draw(st.sampled_from(["{}", " {} ", "{}  "])).format(n))
        kinds.append("count")
        lines.append(draw(st.sampled_from(COMMENTS)).format(i=i, n=n, n_less=n - 1, n_more=n + 1))
        kinds.append("comment")
        for k in range(n):
            species = draw(st.sampled_from(["Ar", "Kr", "Xe"]))
            lines.append(f"{species} {1.5 * k:.3f} {0.25 * i:.3f} {draw(st.integers(0, 9)) * 0.1:.3f}")
            kinds.append("atom")
    defect = draw(st.sampled_from(DEFECTS))
    if defect is not None:
        event(defect)
        kind = {"digit atom line": "atom", "short atom line": "atom", "nan": "atom", "nul": "atom"}.get(defect, "count")
        kind = "comment" if defect in ("bad key", "singular cell") else kind
        at = draw(st.sampled_from([k for k, c in enumerate(kinds) if c == kind]))
        n = int(lines[at - 1 if kind == "comment" else at].strip()) if kind != "atom" else 0
        lines[at] = {"digit atom line": "5", "short atom line": "Ar 0 0", "count not a number": "x",
                     "count too large": str(n + 1), "count too small": str(max(n - 1, 1)), "nan": "Ar 0 0 nan",
                     "zero count": "0", "bad key": 'energy="-1', "nul": "Ar 0 0\0 0",
                     "singular cell": 'Lattice="0 0 0 0 9 0 0 0 9" pbc="T T T"'}[defect]
    end = draw(st.sampled_from(["\n", "", "\n\n", "\n  \n"]))
    return "\n".join(lines) + end


def same_result(path: str, cuts: list[int]) -> list[Task]:
    """Assert that the pieces give what the whole-file read gives; the tasks read again."""
    try:
        whole = read_structures(path)
    except InputError as err:
        with pytest.raises(InputError) as caught:
            read_in_pieces(path, cuts)
        assert str(caught.value) == str(err)
        return []
    dataset, reruns = read_in_pieces(path, cuts)
    assert dataset.names == whole.names
    assert dataset.species_names == whole.species_names and dataset.type_names == whole.type_names
    assert dataset.info == whole.info
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(dataset, field), getattr(whole, field), err_msg=field)
    return reruns


@settings(max_examples=400, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(text=xyz_texts(), data=st.data())
def test_pieces_read_what_the_whole_file_reads(tmp_path, text, data):
    assume(text.split("\n")[0].strip().isdigit())  # else a headerless file, never cut (split_mode)
    path = tmp_path / "frames.xyz"
    path.write_bytes(text.encode())
    size = len(text.encode())
    line_starts = [k + 1 for k, c in enumerate(text.encode()) if c == 10 and k + 1 < size] or [1]
    cut = st.one_of(st.integers(1, max(1, size - 1)), st.sampled_from(line_starts))  # at line starts: syncs fooled
    cuts = data.draw(st.lists(cut, max_size=6))
    if same_result(str(path), cuts):
        event("a piece was read again (a sync fooled)")


def test_a_comment_that_looks_like_a_count_fools_the_sync_and_is_caught(tmp_path):
    """Cut between a count line and a comment line "1": from the comment, "1", then an atom line as a
    comment, one atom and the next count line look like a frame; the chain check reads it again."""
    frames = ["2\n1\nAr 0 0 0\nKr 0 0 3.5\n", "2\nenergy=-1\nAr 0 0 0\nAr 0 0 4\n", "1\n0.5\nXe 0 0 0\n"]
    path = tmp_path / "fooled.xyz"
    path.write_text("".join(frames))
    window_start = len("2\n")  # the sync looks from the comment line "1" of frame 0
    reruns = same_result(str(path), [window_start])
    assert len(reruns) == 1 and reruns[0].pieces[0][1].start == len(frames[0])
    dataset, _ = read_in_pieces(str(path), [window_start])
    assert dataset.names == ("fooled:0", "fooled:1", "fooled:2") and dataset.first_atom_line.tolist() == [3, 7, 11]


def test_a_large_number_on_a_comment_line_does_not_make_the_sync_read_far(tmp_path):
    """A comment "1000000" where a piece starts would be a frame of a million lines; the sync tries a
    later count line first, which fits in what was read, and the chain check confirms it."""
    frame = "2\n1000000\nAr 0 0 0\nKr 0 0 3.5\n"
    path = tmp_path / "steps.xyz"
    path.write_text(frame * 20000)
    start = 10 * len(frame) + len("2\n")  # at the comment line of frame 10
    window = PartWindow(str(path), FilePart(start=start, end=start + 2000))
    assert window.base + window.first == 11 * len(frame)
    assert len(window.data) < 100_000 < path.stat().st_size
    window.close()
    same_result(str(path), [start, start + 2000, 300_000])


def test_an_error_names_its_line_in_a_later_piece(tmp_path):
    frame = "2\nenergy=-1\nAr 0 0 0\nKr 0 0 3.5\n"
    path = tmp_path / "bad.xyz"
    path.write_text(frame * 50 + "2\nenergy=-1\nAr 0 0 0\nKr 0 x 3.5\n" + frame * 10)
    cuts = [b for b, _ in byte_ranges(path.stat().st_size, 7)]
    with pytest.raises(InputError, match=r"bad\.xyz:204: "):
        read_in_pieces(str(path), cuts)
    with pytest.raises(InputError, match=r"bad\.xyz:204: "):
        read_structures(str(path))


def test_a_framing_error_further_on_comes_first_as_in_a_whole_file_read(tmp_path):
    """An atom-line error in piece 0 and a missing count line in the last piece: the whole-file read
    frames every frame before it parses atom lines, so the framing error is the one reported."""
    frame = "2\nenergy=-1\nAr 0 0 0\nKr 0 0 3.5\n"
    path = tmp_path / "two.xyz"
    path.write_text("2\nenergy=-1\nAr 0 0 0\nKr 0 x 3.5\n" + frame * 40 + "oops\n")
    cuts = [b for b, _ in byte_ranges(path.stat().st_size, 4)]
    with pytest.raises(InputError, match=r"two\.xyz:165: expected the atom count of a frame, got 'oops'"):
        read_in_pieces(str(path), cuts)
    same_result(str(path), cuts)


def test_a_part_reads_on_past_its_end_to_finish_its_last_frame(tmp_path):
    path = tmp_path / "long.xyz"
    atoms = "".join(f"Ar {k * 3.0:.1f} 0 0\n" for k in range(2000))
    path.write_text(f"2000\nname=a\n{atoms}1\nname=b\nXe 0 0 0\n")
    dataset, span = read_part(str(path), ReadOptions(), FilePart(start=0, end=10, first_line=1))
    assert dataset.names == ("a",) and span.start == 0 and span.frames == 1
    assert span.end == len(f"2000\nname=a\n{atoms}") and not span.at_end
    dataset, span = read_part(str(path), ReadOptions(), FilePart(start=20, end=path.stat().st_size))
    assert dataset.names == ("b",) and span.start == span.end - len("1\nname=b\nXe 0 0 0\n") and span.at_end
    assert dataset.first_atom_line.tolist() == [3]  # counted from the piece's own start


def test_split_mode(tmp_path):
    many = tmp_path / "many.xyz"
    many.write_text("".join(f"1\nname=f{k}\nAr 0 0 0\n" for k in range(1000)))
    one = tmp_path / "one.xyz"
    one.write_text("1000\n\n" + "Ar 0 0 0\n" * 1000)
    bare = tmp_path / "bare.xyz"
    bare.write_text("Ar 0 0 0\n" * 10)
    bom = tmp_path / "bom.xyz"
    bom.write_bytes(b"\xef\xbb\xbf" + many.read_bytes())
    assert [split_mode(str(p)) for p in (many, one, bare, bom)] == ["bytes", "shared", "shared", "whole"]


@pytest.mark.parametrize("with_errors", [False, True])
def test_workers_read_a_large_file_once_in_byte_ranges(tmp_path, monkeypatch, with_errors):
    """Through the worker pool: the plan cuts by size alone (no frame_parts read), the result is the
    whole-file read's, and an error in a late piece names its line."""
    monkeypatch.setattr(pipeline, "PARALLEL_READ_BYTES", 1)
    monkeypatch.setattr(pipeline, "SPLIT_BYTES", 10_000)
    rng = np.random.default_rng(3)
    frames = []
    for k in range(400):
        n = int(rng.integers(1, 6))
        rows = "".join(f"{('Ar', 'Kr', 'Xe')[j % 3]} {j * 3.1:.3f} {rng.normal():.3f} 0\n" for j in range(n))
        frames.append(f"{n}\n{n - 1 if k % 3 else 'energy=-1'}\n{rows}")
    if with_errors:
        frames[351] = frames[351].replace(" 0\n", " nan\n", 1)
    path = tmp_path / "big.xyz"
    path.write_text("".join(frames))
    job = Featurization(data=DataOptions(), scheme=None)
    pending = PendingFeaturization([str(path)], job, workers=2)
    assert len(pending.tasks) == 8 and all(t.pieces[0][1] is not None for t in pending.tasks)
    if with_errors:
        line = sum(f.count("\n") for f in frames[:351]) + 3
        with pytest.raises(InputError, match=rf"big\.xyz:{line}: coordinates are not finite"):
            pending.result()
        return
    dataset, _ = pending.result()
    whole = read_structures(str(path))
    assert dataset.names == whole.names
    for field in FIELDS:
        np.testing.assert_array_equal(getattr(dataset, field), getattr(whole, field), err_msg=field)
