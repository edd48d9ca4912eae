"""Writes ase_cases.json: the extended-XYZ inputs of ASE 3.29's own tests, as files.

    .venv/bin/python tests/data/grammar/make_ase_cases.py

Sources (ase/test/fio/test_extxyz.py, test_xyz.py, the ase/io/extxyz.py docstring):
hand-written files copied verbatim, and the files its tests make with ase.io.write,
written here by ASE 3.29 once and stored (so that the tests do not depend on the
writer of whatever ASE is installed).
"""
import io
import json
from pathlib import Path

import numpy as np
from ase.build import bulk, molecule
from ase.calculators.emt import EMT
from ase.calculators.singlepoint import SinglePointCalculator
from ase.constraints import FixAtoms
from ase.io import write

COMPLEX = (  # test_complex_key_val, verbatim
    ' '
    'str=astring '
    'quot="quoted value" '
    'quote_special="a_to_Z_$%%^&*" '
    r'escaped_quote="esc\"aped" '
    'true_value '
    'false_value = F '
    'integer=22 '
    'floating=1.1 '
    'int_array={1 2 3} '
    'float_array="3.3 4.4" '
    'virial="1 4 7 2 5 8 3 6 9" '
    'not_a_3x3_array="1 4 7 2 5 8 3 6 9" '
    'Lattice="  4.3  0.0 0.0 0.0  3.3 0.0 0.0 0.0  7.0 " '
    'scientific_float=1.2e7 '
    'scientific_float_2=5e-6 '
    'scientific_float_array="1.2 2.2e3 4e1 3.3e-1 2e-2" '
    'not_array="1.2 3.4 text" '
    'bool_array={T F T F} '
    'bool_array_2=" T, F, T " '
    'not_bool_array=[T F S] '
    'unquoted_special_value=a_to_Z_$%%^&* '
    '2body=33.3 '
    'hyphen-ated '
    'many_other_quotes="4 8 12" '
    'comma_separated="7, 4, -1" '
    'bool_array_commas=[T, T, F, T] '
    'Properties=species:S:1:pos:R:3 '
    'multiple_separators       '
    'double_equals=abc=xyz '
    'trailing '
    '"with space"="a value" '
    r'space\"="a value" '
    'f_str_looks_like_array="[[1, 2, 3], [4, 5, 6]]" '
    'f_float_array="_JSON [[1.5, 2, 3], [4, 5, 6]]" '
    'f_int_array="_JSON [[1, 2], [3, 4]]" '
    'f_bool_bare '
    'f_bool_value=F '
    'f_dict={_JSON {"a" : 1}} '
)
PBC = ["True True True", "True True False", "False false T", "True true T", "True false T", "F F F", "T T F",
       "True", "False"]
SLASH = """4
    key1=a key2=a/b key3=a@b key4="a@b"
    Mg        -4.25650        3.79180       -2.54123
    C         -1.15405        2.86652       -1.26699
    C         -5.53758        3.70936        0.63504
    C         -7.28250        4.71303       -3.82016
    """
BLANK = SLASH.replace('    key1=a key2=a/b key3=a@b key4="a@b"', "")
UPPER = """4
    Coordinates
    MG        -4.25650        3.79180       -2.54123
    C         -1.15405        2.86652       -1.26699
    C         -5.53758        3.70936        0.63504
    C         -7.28250        4.71303       -3.82016

    """
MOVEMASK = """3
Properties=species:S:1:pos:R:3:move_mask:I:1 pbc="F F F"
O        0.00000000       0.00000000       0.11926200  1
H        0.00000000       0.76323900      -0.47704700  0
H        0.00000000      -0.76323900      -0.47704700  0"""
SILICON_ROWS = """Si        0.00000000      0.00000000      0.00000000
Si        1.36000000      1.36000000      1.36000000
Si        2.72000000      2.72000000      0.00000000
Si        4.08000000      4.08000000      1.36000000
Si        2.72000000      0.00000000      2.72000000
Si        4.08000000      1.36000000      4.08000000
Si        0.00000000      2.72000000      2.72000000
Si        1.36000000      4.08000000      4.08000000
"""


def written(images, **kwargs) -> str:
    out = io.StringIO()
    write(out, images, format="extxyz", **kwargs)
    return out.getvalue()


def ase_written() -> dict[str, str]:
    """The files ASE's tests write (test_sequence, test_stress, test_json_scalars, charges, test_xyz.py)."""
    si = bulk("Si")
    images = [si, si * (2, 1, 1), si * (3, 1, 1)]
    images[1].set_pbc([True, True, False])
    images[2].set_pbc([True, False, False])
    water = molecule("H2O") + molecule("H2O")
    water.positions[3:, 0] += 5.0
    water.cell, water.pbc = [10, 10, 10], True
    water.calc = EMT()
    water.get_stress()
    scalars = bulk("Si")
    scalars.info.update(val_1=42.0, val_2=42.0, val_3=np.int64(42))
    charged = bulk("Si")
    charged.set_initial_charges([1.0, -1.0])
    charged.calc = SinglePointCalculator(charged, charges=[-2.0, 2.0], energy=-1.25)
    struct = bulk("Si")
    struct.info = {"dataset": "deltatest", "kpoints": np.array([28, 28, 20]), "identifier": "deltatest_H_1.00",
                   "unique_id": "4cf83e2f89c795fb7eaf9662e77542c1"}
    cu = bulk("Cu") * (2, 1, 1)
    cu.info["REF_energy"] = 5
    cu.calc = EMT()
    cu.get_potential_energy()
    masked = molecule("H2O")
    masked.set_constraint(FixAtoms(indices=(0, 2)))
    return {
        "test_sequence": written(images),
        "test_stress": written(water),
        "test_json_scalars": written(scalars),
        "test_write_read_charges": written(charged),
        "test_read_struct": written(struct),
        "test_basic_functionality": written(cu),
        "test_fix_atoms": written(masked),
        "test_xyz_plain": written([molecule(n) for n in ("C6H6", "H2O", "CO")], plain=True),
        "test_xyz_comment": written(molecule("C6H6"), plain=True, comment="my comment"),
    }


def main() -> None:
    cases = {
        "test_complex_key_val": f"1\n{COMPLEX}\nH 1.0 1.0 1.0",
        **{f"test_pbc_property[{pbc}]": '2\nLattice="3.608 0.0 0.0 -1.804 3.125 0.0 0.0 0.0 21.3114930844" '
           f'pbc="{pbc}"\nAs           1.8043384632       1.0417352974      11.3518747709\n'
           "As          -0.0000000002       2.0834705948       9.9596183135" for pbc in PBC},
        "test_read_slash": SLASH,
        "test_blank_comment": BLANK,
        "test_vec_cell[upper case, trailing blank line]": UPPER,
        "test_constraints_int": MOVEMASK,
        "docstring: plain silicon": "8\nCubic bulk silicon cell\n" + SILICON_ROWS,
        "docstring: extended silicon": '8\nLattice="5.44 0.0 0.0 0.0 5.44 0.0 0.0 0.0 5.44" '
                                       "Properties=species:S:1:pos:R:3 Time=0.0\n" + SILICON_ROWS,
        **{f"written by ase.io.write: {k}": v for k, v in ase_written().items()},
    }
    doc = {"source": __doc__.split("\n\n")[0] + " Generated by make_ase_cases.py (ASE 3.29.0).", "cases": cases}
    Path(__file__).with_name("ase_cases.json").write_text(json.dumps(doc, indent=1) + "\n")


if __name__ == "__main__":
    main()
