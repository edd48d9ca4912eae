"""The comment line of an XYZ frame: extended-XYZ key=value pairs or free text.

The key=value grammar is libAtoms' (github.com/libAtoms/extxyz, ``kv_tests.md``) with
ASE's extensions (``ase.io.extxyz.key_val_str_to_dict``):

- pairs ``key=value`` separated by whitespace, optional spaces around ``=``; a key
  without ``=value`` is a flag (True), as in ASE;
- keys and values bare, or quoted with ``"..."`` or ``'...'``: a backslash escapes the
  next character, ``\\n`` is a newline; a quote opens only at the start of a token;
- ``{...}`` and ``[...]`` containers: ``{1 2 3}`` keeps its text (like ``"1 2 3"``);
  ``[1, 2, 3]`` and ``[[1, 2], [3, 4]]`` are arrays of numbers, booleans or quoted
  strings, comma separated (or whitespace separated when there is no comma, as in
  ASE's ``[T F S]``);
- a value is one whole token: text inside quotes or brackets never becomes a key.

Values keep their text: a scalar is a ``str`` (unquoted, unescaped), an array a tuple
of ``str`` (a tuple of such tuples for 2-d), a flag ``True``. Numbers are converted
where a key's meaning asks for one (``to_float``: Fortran ``1.0d2`` too; ``Lattice``
and ``pbc`` in ``values``: whitespace- or comma-separated, as ASE reads them).

A comment that is not key=value pairs (a character no token can start with, an
unclosed quote, a malformed array, a number where a flag's key should be) is free
text, where the energy is taken from ``energy=``/``E:`` forms or a lone number; the
reader refuses it when it names ``Lattice=`` or ``Properties=`` (``comment_error``
says where it breaks).
"""
import re

Value = str | bool | tuple

_ESCAPED = r"""\\[\s=",'{}\[\]\\]"""  # what a backslash may escape in a bare token (libAtoms' barestring)
_DQ = r'"[^"\\]*(?:\\.[^"\\]*)*"'
_SQ = r"'[^'\\]*(?:\\.[^'\\]*)*'"
_BARE_KEY = rf"""(?:[^\s="'{{}}\[\],\\]|{_ESCAPED})[^\s="{{}}\[\],\\]*(?:{_ESCAPED}[^\s="{{}}\[\],\\]*)*"""
# a bare value may hold '=' and ',' (ASE writes ``double_equals=abc=xyz`` and ``note=a,b`` unquoted)
_BARE_VALUE = rf"""(?:[^\s"'{{}}\[\]\\]|{_ESCAPED})[^\s"{{}}\[\]\\]*(?:{_ESCAPED}[^\s"{{}}\[\]\\]*)*"""
_BRACES = r"\{[^{}]*(?:\{[^{}]*\}[^{}]*)*\}"  # one level of nesting, for ASE's ``f_dict={_JSON {"a": 1}}``
_IN_BRACKETS = rf"""[^\[\]"'\\]*(?:(?:{_DQ}|{_SQ}|\\.)[^\[\]"'\\]*)*"""
_BRACKETS = rf"""\[{_IN_BRACKETS}(?:\[{_IN_BRACKETS}\]{_IN_BRACKETS})*\]"""
_PAIR = re.compile(
    rf"""\s*(?:(?P<key>{_DQ}|{_SQ}|{_BARE_KEY})
        (?:\s*=\s*(?P<value>{_DQ}|{_SQ}|{_BRACES}|{_BRACKETS}|{_BARE_VALUE}))?
        (?=\s|\Z)  # a token ends at whitespace: ``"a"b`` or ``abc]def`` is no pair
    |(?P<stray>\S+))  # what no pair can start with: the comment is not key=value pairs""",
    re.X | re.S,
)
_ARRAY_TOKEN = re.compile(
    rf"""\s*(?:(?P<quoted>{_DQ}|{_SQ})|(?P<mark>[\[\],])|(?P<bare>(?:[^\s,\[\]"'{{}}=\\]|{_ESCAPED})+)|(?P<bad>\S))""",
    re.X | re.S,
)
_ARRAY_SPECIAL = re.compile(r"""[\[\]"'{}=\\]""")  # what only the tokenizer of parse_array handles
_PLAIN_ROWS = re.compile(r"""\s*\[[^\[\]"'{}=\\]*\](?:\s*,\s*\[[^\[\]"'{}=\\]*\])*\s*""")
_ROW = re.compile(r"\[([^\[\]]*)\]")
_ESCAPE = re.compile(r"\\(.)", re.S)
_FORTRAN = re.compile(r"[+-]?(?:\d+\.?\d*|\.\d+)[dD][+-]?\d+")
_D_TO_E = str.maketrans("dD", "ee")
_NUMBER_START = frozenset("+-.0123456789")
_BOOLS = {"t": True, "true": True, "1": True, "f": False, "false": False, "0": False}

_FREE_ENERGY = re.compile(r"\b(?:energy|e)\s*[=:]\s*(\S+)", re.I)
_UNIT = re.compile(r"(?<![\w/])(hartree|ha|kcal/mol|kcal|kj/mol|kj|ev|rydberg|ry)(?![\w/])", re.I)
_UNIT_NAMES = {"hartree": "hartree", "ha": "hartree", "kcal/mol": "kcal/mol", "kcal": "kcal/mol",
               "kj/mol": "kJ/mol", "kj": "kJ/mol", "ev": "eV", "rydberg": "Rydberg", "ry": "Rydberg"}
_EXTENDED_KEY = re.compile(r"(?:^|\s)(?:Lattice|Properties)\s*=", re.I)

PROPERTY_KINDS = {"S": "string", "R": "real", "I": "integer", "L": "logical"}


def parse_key_values(text: str) -> dict[str, Value] | None:
    """Key/value pairs of an extended-XYZ comment, or None if it is free text."""
    pairs: dict[str, Value] = {}
    has_value = False
    for key, value, stray in _PAIR.findall(text):  # an absent value is "" (a present one is never empty)
        if stray:
            return None
        first = key[0]
        if first == '"' or first == "'":
            key = _unquote(key)
        elif "\\" in key:
            key = _ESCAPE.sub(r"\1", key)
        elif not value and key[0] in _NUMBER_START and _is_number(key):  # ``i 5``: a number where a key belongs
            return None
        if not value:
            pairs[key] = True
            continue
        has_value = True
        first = value[0]
        if first == '"' or first == "'":
            value = _unquote(value)
        elif first == "{":
            value = value[1:-1]
        elif first == "[":
            try:
                value = parse_array(value)
            except ValueError:
                return None
        elif "\\" in value:
            value = _ESCAPE.sub(r"\1", value)
        pairs[key] = value
    return pairs if has_value else None


def _unquote(token: str) -> str:
    inner = token[1:-1]
    return _ESCAPE.sub(_escaped_char, inner) if "\\" in inner else inner


def _escaped_char(match: re.Match) -> str:
    char = match.group(1)
    return "\n" if char == "n" else char


def _is_number(token: str) -> bool:
    try:
        to_float(token)
    except ValueError:
        return False
    return True


def parse_array(token: str) -> tuple:
    """``[1, 2, 3]`` -> ("1", "2", "3"); ``[[1, 2], [3, 4]]`` -> (("1", "2"), ("3", "4")).

    Elements are separated by commas, or by whitespace where there is no comma; quoted elements are
    unquoted. Raises ValueError saying what is wrong: an empty element (``[1, 2, ]``), rows of unequal
    length, rows without a comma between them, arrays nested more than two deep, a character that is
    not allowed in a bare element.
    """
    inner = token[1:-1]
    if not _ARRAY_SPECIAL.search(inner):  # the usual case, numbers or booleans: split, no tokenizer
        return _plain_items(inner)
    if _PLAIN_ROWS.fullmatch(inner):  # a 2-d array of such, as libAtoms writes a Lattice
        rows = tuple(_plain_items(row) for row in _ROW.findall(inner))
        if not all(rows):
            raise ValueError("an empty row in a 2-d array")
        if len({len(row) for row in rows}) > 1:
            raise ValueError("the rows of a 2-d array have different lengths")
        return rows
    tokens = []
    for match in _ARRAY_TOKEN.finditer(token, 1, len(token) - 1):
        quoted, mark, bare, bad = match.groups()
        if bad:
            raise ValueError(f"{bad!r} is not allowed in a bare array element (quote the element)")
        tokens.append(mark if mark else (_unquote(quoted) if quoted else _ESCAPE.sub(r"\1", bare),))
    elements, end = _array_level(tokens, 0, nested=False)
    if end != len(tokens):
        raise ValueError("unbalanced [ ]")
    if elements and all(isinstance(e, tuple) for e in elements):
        if len({len(row) for row in elements}) > 1:
            raise ValueError("the rows of a 2-d array have different lengths")
    elif any(isinstance(e, tuple) for e in elements):
        raise ValueError("an array mixes rows and single values")
    return tuple(elements)


def _plain_items(inner: str) -> tuple[str, ...]:
    """The elements of ``[inner]`` when it holds no quotes, brackets or escapes."""
    if "," not in inner:
        return tuple(inner.split())
    items = [item.strip() for item in inner.split(",")]
    if any(len(item.split()) != 1 for item in items):
        raise ValueError("an empty array element" if "" in items else "array elements without a comma between them")
    return tuple(items)


def _array_level(tokens: list, at: int, nested: bool) -> tuple[list, int]:
    """The elements of one ``[ ]`` level whose tokens start at ``at``; the index just past its ``]``."""
    groups: list[list] = [[]]
    while at < len(tokens):
        token = tokens[at]
        at += 1
        if token == ",":
            groups.append([])
        elif token == "]":
            if not nested:
                raise ValueError("unbalanced [ ]")
            break
        elif token == "[":
            if nested:
                raise ValueError("arrays nest at most two deep")
            row, at = _array_level(tokens, at, nested=True)
            if not row:
                raise ValueError("an empty row in a 2-d array")
            groups[-1].append(tuple(row))
        else:
            groups[-1].append(token[0])
    else:
        if nested:
            raise ValueError("unbalanced [ ]")
    if len(groups) == 1:  # no comma: whitespace separates the elements, as in ASE's ``[T F S]``
        if len(groups[0]) > 1 and any(isinstance(e, tuple) for e in groups[0]):
            raise ValueError("rows of a 2-d array must be separated by commas")
        return groups[0], at
    for group in groups:
        if len(group) != 1:
            raise ValueError("an empty array element" if not group else "array elements without a comma between them")
    return [group[0] for group in groups], at


def comment_error(text: str) -> str:
    """Why ``text`` is not key=value pairs, with the 1-based column where it breaks (for error messages)."""
    for match in _PAIR.finditer(text):
        key, value, stray = match.group("key", "value", "stray")
        if stray:
            return _explain(text, match.start("stray"))
        if value and value[0] == "[":
            try:
                parse_array(value)
            except ValueError as err:
                return f"column {match.start('value') + 1}: {err}"
        if not value and key[0] in _NUMBER_START and _is_number(key):
            return f"column {match.start('key') + 1}: a number ({key}) where a key should be"
    return "no key=value pair"


_KEY_EQUALS = re.compile(rf"""(?:{_DQ}|{_SQ}|{_BARE_KEY})(\s*=\s*)?""", re.S)
_VALUE = re.compile(rf"""{_DQ}|{_SQ}|{_BRACES}|{_BRACKETS}|{_BARE_VALUE}""", re.S)
_OPENERS = {'"': "an unclosed \" quote", "'": "an unclosed ' quote", "{": "an unclosed {", "[": "an unclosed ["}


def _explain(text: str, at: int) -> str:
    """What breaks the pair that starts at ``at``, no pair of ``_PAIR`` having matched there."""
    key = _KEY_EQUALS.match(text, at)
    if key is None:
        what = _OPENERS[text[at]] if text[at] in "\"'" else repr(text[at])
        return f"column {at + 1}: {what} where a key should start"
    end = key.end()
    if key.group(1) is None:
        return f"column {end + 1}: {text[end]!r} right after the key {text[at:end]!r} (quote the key)"
    value = _VALUE.match(text, end)
    if value is None:
        if end == len(text):
            return f"column {end}: '=' without a value"
        return f"column {end + 1}: {_OPENERS.get(text[end], repr(text[end]))} in the value of {text[at:end].rstrip(' =')!r}"
    stop = value.end()
    return f"column {stop + 1}: {text[stop]!r} inside the value of {text[at:end].rstrip(' =')!r} (quote the value)"


def to_float(text: str) -> float:
    """``float(text)``, also for Fortran exponents (``1.0d2``, ``-1D-12``); ValueError if not a number."""
    try:
        return float(text)
    except ValueError:
        if _FORTRAN.fullmatch(text.strip()):
            return float(text.translate(_D_TO_E))
        raise


def values(value: Value) -> list[str]:
    """The items of a value: a tuple's (2-d flattened row by row), or a string's split at whitespace and commas."""
    if isinstance(value, tuple):
        return [item for element in value for item in (element if isinstance(element, tuple) else (element,))]
    if value is True:
        return []
    return value.replace(",", " ").split()


def scalar(value: Value) -> str | None:
    """The one text of a scalar value (``"x"``, ``'x'``, ``[x]``); None for a flag or an array of several."""
    if isinstance(value, tuple):
        return value[0] if len(value) == 1 and isinstance(value[0], str) else None
    return None if value is True else value


def parse_bools(value: Value) -> list[bool] | None:
    """``"T T F"`` -> [True, True, False] (T/F/True/False in any case, 1/0); None if any item is not a boolean."""
    found = [_BOOLS.get(item.lower()) for item in values(value)]
    return None if not found or any(v is None for v in found) else found


_PLAIN_KEY = re.compile(r"""[^\s="'{}\[\],\\][^\s="{}\[\],\\]*""")
_PLAIN_VALUE = re.compile(r"""[^\s"'{}\[\]\\][^\s"{}\[\]\\]*""")
_PLAIN_ELEMENT = re.compile(r"""[^\s,\[\]"'{}=\\]+""")


def format_pair(key: str, value: Value) -> str:
    """``key=value`` as ``parse_key_values`` reads it back to the same key and value (a flag: the key alone)."""
    key_text = key if _PLAIN_KEY.fullmatch(key) and not _is_number(key) else quote(key)
    if value is True:
        return key_text
    if isinstance(value, tuple):
        return f"{key_text}={_format_array(value)}"
    return f"{key_text}={value if _PLAIN_VALUE.fullmatch(value) else quote(value)}"


def _format_array(value: tuple) -> str:
    return "[" + ", ".join(_format_array(e) if isinstance(e, tuple) else e if _PLAIN_ELEMENT.fullmatch(e)
                           else quote(e) for e in value) + "]"


def quote(text: str) -> str:
    """``text`` double-quoted, with backslash escapes for backslashes, quotes and newlines."""
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'


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
