"""The comment line of an XYZ frame: extended-XYZ key=value pairs or free text.

Extended XYZ as ASE writes it: ``key=value`` pairs separated by spaces, values
optionally double-quoted (``Lattice="1 0 0 0 1 0 0 0 1"``, backslash escapes), or
in braces; a bare ``key`` is a flag. A comment with no ``key=value`` pair at all is
free text, where the energy is taken from ``energy=``/``E:`` forms or a lone number.
"""
import re

_PAIR = re.compile(
    r"""\s*(?P<key>[^\s="{}]+)
        (?:\s*=\s*(?P<value>"(?:[^"\\]|\\.)*"|\{[^}]*\}|[^\s"{}]+))?
    |(?P<stray>\S)  # what no pair can start with: the comment is not key=value pairs""",
    re.X,
)
_ESCAPE = re.compile(r"\\(.)")
_FREE_ENERGY = re.compile(r"\b(?:energy|e)\s*[=:]\s*(\S+)", re.I)
_UNIT = re.compile(r"(?<![\w/])(hartree|ha|kcal/mol|kcal|kj/mol|kj|ev|rydberg|ry)(?![\w/])", re.I)
_UNIT_NAMES = {"hartree": "hartree", "ha": "hartree", "kcal/mol": "kcal/mol", "kcal": "kcal/mol",
               "kj/mol": "kJ/mol", "kj": "kJ/mol", "ev": "eV", "rydberg": "Rydberg", "ry": "Rydberg"}
_EXTENDED_KEY = re.compile(r"(?:^|\s)(?:Lattice|Properties)\s*=", re.I)

PROPERTY_KINDS = {"S": "string", "R": "real", "I": "integer", "L": "logical"}


def parse_key_values(text: str) -> dict[str, str | bool] | None:
    """Key/value pairs of an extended-XYZ comment, or None if it is free text."""
    pairs: dict[str, str | bool] = {}
    has_value = False
    for key, value, stray in _PAIR.findall(text):  # an absent value is "" (a present one is never empty)
        if stray:
            return None
        if not value:
            pairs[key] = True
            continue
        has_value = True
        if value.startswith('"'):
            value = _ESCAPE.sub(r"\1", value[1:-1]) if "\\" in value else value[1:-1]
        elif value.startswith("{"):
            value = value[1:-1]
        pairs[key] = value
    return pairs if has_value else None


def looks_extended(text: str) -> bool:
    """Whether a comment that did not parse as key=value pairs still names ``Lattice=`` or ``Properties=``."""
    return _EXTENDED_KEY.search(text) is not None


def free_text_energy(text: str) -> str | None:
    """The energy in a free-text comment: ``energy=x``/``E: x``, else its only number."""
    m = _FREE_ENERGY.search(text)
    if m:
        return m.group(1).rstrip(",;")
    numbers = []
    for token in text.replace(",", " ").split():
        try:
            float(token)
        except ValueError:
            continue
        numbers.append(token)
    return numbers[0] if len(numbers) == 1 else None


def free_text_unit(text: str) -> str | None:
    """The energy unit a free-text comment names ("E(Ha) -0.5", "energy -12.3 kcal/mol"), if any."""
    m = _UNIT.search(text)
    return _UNIT_NAMES[m.group(1).lower()] if m else None


def parse_properties(spec: str) -> list[tuple[str, str, int]]:
    """``species:S:1:pos:R:3`` -> [("species", "S", 1), ("pos", "R", 3)].

    Raises ValueError with a message saying what is wrong with the spec.
    """
    fields = spec.split(":")
    if len(fields) % 3:
        raise ValueError(f"malformed Properties={spec!r}: expected name:type:count triples")
    columns = []
    for name, kind, count in zip(fields[::3], fields[1::3], fields[2::3]):
        if kind not in PROPERTY_KINDS:
            raise ValueError(f"unknown type {kind!r} for column {name!r} in Properties={spec!r} (expected S, R, I or L)")
        if not count.isdigit() or int(count) < 1:
            raise ValueError(f"bad column count {count!r} for {name!r} in Properties={spec!r}")
        if any(name == c[0] for c in columns):
            raise ValueError(f"column {name!r} appears twice in Properties={spec!r}")
        columns.append((name, kind, int(count)))
    return columns


def parse_bools(text: str) -> list[bool] | None:
    """``"T T F"`` -> [True, True, False]; None if any token is not a boolean."""
    table = {"t": True, "true": True, "1": True, "f": False, "false": False, "0": False}
    values = [table.get(tok.lower()) for tok in text.split()]
    return None if any(v is None for v in values) else values
