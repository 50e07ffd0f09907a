"""JSON-schema instance synthesis for the emulator's tool calls and structured output.

`PromptValues` pulls candidate values out of the prompt (numbers, quoted strings, capitalised
phrases, content words) and `synthesise(schema, values)` builds an instance valid against the
schema: a property first takes the value the prompt labels with its name or description
("country: France", "2102650 inhabitants"), the others consume prompt values in order where the
types fit. The rules are documented in `docs/emulator.md` ("Arguments and structured output").
"""

from __future__ import annotations

import bisect
import math
import re
from typing import Any

from azureinfer.emulator._embedding import stem

__all__ = ["PromptValues", "synthesise"]

_NUMBER_RE = re.compile(r"(?<![\w.])-?\d+(?:\.\d+)?(?![\w])")
_QUOTED_RE = re.compile(
    r"\"([^\"\n]{1,200})\"|\u201c([^\u201d\n]{1,200})\u201d|(?<!\w)'([^'\n]{1,200})'(?!\w)"
)
_WORD_RE = re.compile(r"[^\W\d_][\w'-]*")
_PHRASE_RE = re.compile(r"[^\W\d_][\w'-]*(?:[ ]+[^\W\d_][\w'-]*)*")

# Words never taken as values: question words, fillers and instructions.
_STOPWORDS_TEXT = """a an the and or but if then else of to in on at by for with from into
    about as is are was
    were be been being do does did have has had what which who whom whose when where why how
    this that these those it its i me my we our you your he she they them their please tell give
    show use using call make let can could would should will shall may might must just also not
    no yes hello hi hey thanks thank get set find return returns result value values tool tools
    function nothing other than only some any all each every more most very so such there here
    include includes including json answer reply respond"""
STOPWORDS = frozenset(_STOPWORDS_TEXT.split())

_FORMAT_DEFAULTS = {
    "date-time": "2024-01-01T00:00:00Z",
    "date": "2024-01-01",
    "time": "00:00:00Z",
    "email": "user@example.com",
    "uri": "https://example.com",
    "url": "https://example.com",
    "uuid": "00000000-0000-4000-8000-000000000000",
    "hostname": "example.com",
    "ipv4": "127.0.0.1",
}

_MAX_DEPTH = 8

_TOKEN_RE = re.compile(r"\w+")
_NAME_PART_RE = re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|\d+")
# Words that may stand between a label and its value: "country is France", "the population of
# 2102650", "a city called Paris".
_CONNECTORS = frozenset(["is", "are", "was", "were", "of", "the", "a", "an", "called", "named"])
# What may separate a label from its value besides connectors (a comma or a full stop may not).
_LABEL_GAP = frozenset(" \t\n:=-")
# Verbs after which a capitalised word that starts a sentence is its subject ("Paris is ..."),
# not an imperative ("Check the weather ...").
_SUBJECT_VERBS = frozenset(["is", "are", "was", "were", "has", "have", "had"])


class PromptValues:
    """Candidate values found in a prompt, consumed in order by `synthesise`."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.lower = text.lower()
        self.numbers = [m.group(0) for m in _NUMBER_RE.finditer(text)]
        self.quoted = [
            next(g for g in m.groups() if g is not None) for m in _QUOTED_RE.finditer(text)
        ]
        unquoted = _QUOTED_RE.sub(" , ", text)
        self.phrases = _proper_phrases(unquoted)
        self.words = [
            _strip_possessive(w)
            for w in _WORD_RE.findall(unquoted)
            if len(w) >= 3 and w.lower() not in STOPWORDS
        ]
        self._strings = (list(self.quoted), list(self.phrases), list(self.words))
        # Word tokens, each with whether it is inside quotes.
        spans = [m.span() for m in _QUOTED_RE.finditer(text)]
        opens = [a for a, _ in spans]

        def quoted(pos: int) -> bool:
            k = bisect.bisect_right(opens, pos) - 1
            return k >= 0 and pos < spans[k][1]

        matches = list(_TOKEN_RE.finditer(text))
        self._tokens = [(m.group(0).lower(), quoted(m.start())) for m in matches]
        # The text between each token and the one before it.
        self._gaps = [
            text[(matches[i - 1].end() if i else 0) : m.start()] for i, m in enumerate(matches)
        ]

    def restart_strings(self) -> None:
        """Make every string of the prompt available again (numbers stay consumed)."""
        self.quoted, self.phrases, self.words = (list(pool) for pool in self._strings)

    def next_number(self) -> str | None:
        return self.numbers.pop(0) if self.numbers else None

    def next_string(self) -> str | None:
        """The next quoted string, else capitalised phrase, else content word."""
        for pool in (self.quoted, self.phrases, self.words):
            if pool:
                value = pool.pop(0)
                self._forget(value)
                return value
        return None

    def _forget(self, value: str) -> None:
        # A phrase taken as a value should not come back as its separate words.
        parts = {p.lower() for p in value.split()}
        self.words = [w for w in self.words if w.lower() not in parts]
        self.phrases = [p for p in self.phrases if p.lower() != value.lower()]

    def labelled(self, labels: frozenset[str], kind: str) -> str | None:
        """Take the value (kind "number" or "string") that the prompt labels with one of the
        `labels` (stems): after the label, past up to two connector words or a ":" / "="
        ("country is France", "name: Paris", "population of 2102650", "population 2102650"),
        or right before it ("2102650 inhabitants"); strings are quoted strings or capitalised
        phrases. Quoted words are never labels (a quoted '"name"' names a key)."""
        if not labels:
            return None
        tokens = self._tokens
        at = [i for i, (t, quoted) in enumerate(tokens) if not quoted and stem(t) in labels]
        if not at:
            return None
        gaps = self._gaps
        starts: set[int] = set()
        ends = {i - 1 for i in at if gaps[i].isspace()}
        for i in at:
            j = i + 1
            # A number may follow its label directly ("population 500000"); a string needs a
            # connector or a ":" / "=" between ("city: Paris", "city of Paris", not "city
            # breaks").
            marked = kind == "number"
            while j < len(tokens) and _LABEL_GAP.issuperset(gaps[j]):
                marked = marked or ":" in gaps[j] or "=" in gaps[j]
                if marked:
                    starts.add(j)
                if j - i > 2 or tokens[j][0] not in _CONNECTORS:
                    break
                marked = True
                j += 1
        words = [t for t, _ in tokens]
        # Strings: quoted strings and capitalised phrases only (names, not any word).
        pools = [self.numbers] if kind == "number" else [self.quoted, self.phrases]
        for pool in pools:
            for value in pool:
                parts = [t.lower() for t in _TOKEN_RE.findall(value)]
                n = len(parts)
                if not n or any(stem(t) in labels for t in parts):
                    continue
                if any(words[k : k + n] == parts for k in starts) or any(
                    k - n + 1 >= 0 and words[k - n + 1 : k + 1] == parts for k in ends
                ):
                    pool.remove(value)
                    if kind == "string":
                        self._forget(value)
                    return value
        return None

    def mentions(self, word: str) -> bool:
        """Whether `word` occurs in the prompt as a whole word (case-insensitive)."""
        w = str(word).lower()
        if not w:
            return False
        return re.search(r"(?<!\w)" + re.escape(w) + r"(?!\w)", self.lower) is not None


def _strip_possessive(word: str) -> str:
    return word[:-2] if word.endswith(("'s", "\u2019s")) and len(word) > 3 else word


def property_labels(name: str, schema: Any) -> frozenset[str]:
    """The stems that label a property in a prompt: the words of its name ("zip_code",
    "zipCode"), of its `title` and of its `description`, without stop-words."""
    words = _NAME_PART_RE.findall(name)
    if isinstance(schema, dict):
        for key in ("title", "description"):
            if isinstance(schema.get(key), str):
                words += _TOKEN_RE.findall(schema[key])
    return frozenset(stem(w.lower()) for w in words if len(w) >= 3 and w.lower() not in STOPWORDS)


def _proper_phrases(text: str) -> list[str]:
    """Runs of capitalised words, leaving out stop-words (so "What", "Tell" are skipped).

    A run starting a sentence ("Check the weather in Paris") comes after the other runs, as
    its capital may only mark the sentence start, unless "is", "are", "was", "were", "has",
    "have" or "had" follows it: then it is the sentence's subject ("Paris is the capital of
    France") and keeps its place. A possessive "'s" is dropped ("France's" gives "France")."""
    inner: list[str] = []
    initial: list[str] = []
    for m in _PHRASE_RE.finditer(text):
        before = text[: m.start()].rstrip()
        at_start = not before or before[-1] in ".!?:\n"
        next_token = _TOKEN_RE.search(text, m.end())
        after = next_token.group(0).lower() if next_token else ""
        run: list[str] = []
        starts_sentence = False
        words = m.group(0).split()
        for i, w in enumerate([*words, ""]):
            if w and w[0].isupper() and w.lower() not in STOPWORDS:
                if not run:
                    starts_sentence = at_start and i == 0
                run.append(w)
                continue
            if run:
                follower = w.lower() if w else after
                subject = starts_sentence and follower in _SUBJECT_VERBS
                phrase = _strip_possessive(" ".join(run))
                (initial if starts_sentence and not subject else inner).append(phrase)
            run = []
    return inner + initial


def _resolve(schema: Any, root: dict[str, Any]) -> Any:
    seen = 0
    while isinstance(schema, dict) and "$ref" in schema and seen < 32:
        ref = schema["$ref"]
        target: Any = root
        if isinstance(ref, str) and ref.startswith("#"):
            for part in ref[1:].split("/"):
                if not part:
                    continue
                part = part.replace("~1", "/").replace("~0", "~")
                target = target.get(part, {}) if isinstance(target, dict) else {}
        else:
            target = {}
        extra = {k: v for k, v in schema.items() if k != "$ref"}
        schema = {**target, **extra} if isinstance(target, dict) else target
        seen += 1
    return schema


def _int(value: Any, default: int) -> int:
    return value if isinstance(value, int) and not isinstance(value, bool) else default


def _num(value: Any) -> float | None:
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        return None
    return value if math.isfinite(value) else None


def synthesise(schema: Any, values: PromptValues, root: Any = None, depth: int = 0) -> Any:
    """Return an instance of `schema`, taking numbers and strings from `values` where they fit.

    Malformed schemas (tool schemas are not validated by the service) never raise: keywords
    with values of the wrong kind are ignored."""
    if root is None:
        root = schema if isinstance(schema, dict) else {}
    schema = _resolve(schema, root)
    if schema is True or not isinstance(schema, dict):
        return values.next_string() or "value"
    if "const" in schema:
        return schema["const"]
    enum = schema.get("enum")
    if isinstance(enum, list) and enum:
        return _pick_enum(enum, values)
    for key in ("anyOf", "oneOf"):
        if isinstance(schema.get(key), list) and schema[key]:
            branches = [_resolve(b, root) for b in schema[key]]
            non_null = [
                b for b in branches if not (isinstance(b, dict) and b.get("type") == "null")
            ]
            if depth >= _MAX_DEPTH and len(non_null) < len(branches):
                return None
            chosen = non_null[0] if non_null else branches[0]
            return synthesise(chosen, values, root, depth + 1)
    if isinstance(schema.get("allOf"), list) and depth < _MAX_DEPTH:
        merged: dict[str, Any] = {k: v for k, v in schema.items() if k != "allOf"}
        for part in schema["allOf"]:
            part = _resolve(part, root)
            if isinstance(part, dict):
                for k, v in part.items():
                    if k == "properties" and isinstance(v, dict):
                        base = merged.get("properties")
                        merged["properties"] = {**(base if isinstance(base, dict) else {}), **v}
                    elif k == "required" and isinstance(v, list):
                        base = merged.get("required")
                        merged["required"] = [*(base if isinstance(base, list) else []), *v]
                    else:
                        merged.setdefault(k, v)
        return synthesise(merged, values, root, depth + 1)
    typ = schema.get("type")
    if isinstance(typ, list):
        non_null_types = [t for t in typ if t != "null"]
        if not non_null_types or (depth >= _MAX_DEPTH and "null" in typ):
            return None
        typ = non_null_types[0]
    if not isinstance(typ, str):
        if "properties" in schema or "additionalProperties" in schema:
            typ = "object"
        elif "items" in schema or "prefixItems" in schema:
            typ = "array"
        else:
            typ = "string"
    if typ == "object":
        return _object(schema, values, root, depth)
    if typ == "array":
        return _array(schema, values, root, depth)
    if typ == "integer":
        return _integer(schema, values)
    if typ == "number":
        return _number(schema, values)
    if typ == "boolean":
        default = schema.get("default")
        return default if isinstance(default, bool) else True
    if typ == "null":
        return None
    return _string(schema, values)


def _pick_enum(options: list[Any], values: PromptValues) -> Any:
    for option in options:
        if isinstance(option, str) and values.mentions(option):
            return option
    return options[0]


def _object(schema: dict[str, Any], values: PromptValues, root: Any, depth: int) -> dict[str, Any]:
    props = schema.get("properties")
    props = props if isinstance(props, dict) else {}
    required_list = schema.get("required")
    required = dict.fromkeys(
        r for r in (required_list if isinstance(required_list, list) else []) if isinstance(r, str)
    )
    # First the values the prompt labels with a property's name or description, then the
    # others in schema order.
    labelled: dict[str, str] = {}
    for name, sub in props.items():
        kind = _scalar_kind(_resolve(sub, root))
        if kind is not None and isinstance(name, str):
            value = values.labelled(property_labels(name, _resolve(sub, root)), kind)
            if value is not None:
                labelled[name] = value
    out: dict[str, Any] = {}
    for name, sub in props.items():
        if depth >= _MAX_DEPTH and name not in required and name not in labelled:
            continue
        if name in labelled:
            out[name] = _scalar(_resolve(sub, root), values, labelled[name])
        else:
            out[name] = synthesise(sub, values, root, depth + 1)
    for name in required:
        if name not in out:
            out[name] = values.next_string() or name
    return out


def _scalar_kind(schema: Any) -> str | None:
    """ "number" or "string" for a plain number / string property (no enum, const or format)."""
    if not isinstance(schema, dict) or any(k in schema for k in ("enum", "const", "format")):
        return None
    typ = schema.get("type")
    if isinstance(typ, list):
        non_null = [t for t in typ if t != "null"]
        typ = non_null[0] if len(non_null) == 1 else None
    if typ in ("integer", "number"):
        return "number"
    return "string" if typ == "string" else None


def _scalar(schema: dict[str, Any], values: PromptValues, value: str) -> Any:
    """A labelled prompt value, fitted to the property's schema as the positional rules do."""
    typ = schema.get("type")
    if isinstance(typ, list):
        typ = next(t for t in typ if t != "null")
    if typ == "integer":
        return _integer(schema, values, value)
    if typ == "number":
        return _number(schema, values, value)
    return _string(schema, values, value)


def _array(schema: dict[str, Any], values: PromptValues, root: Any, depth: int) -> list[Any]:
    prefix = schema.get("prefixItems")
    if isinstance(prefix, list):
        return [synthesise(s, values, root, depth + 1) for s in prefix]
    items = _resolve(schema.get("items", {}), root)
    lo = max(0, _int(schema.get("minItems"), 0))
    hi = schema.get("maxItems")
    if depth >= _MAX_DEPTH:
        count = lo
    else:
        item_type = items.get("type") if isinstance(items, dict) else None
        plain = isinstance(items, dict) and "enum" not in items
        if item_type in ("integer", "number") and plain:
            count = max(len(values.numbers), 1)
        elif item_type == "string" and plain and len(values.quoted) > 1:
            count = len(values.quoted)
        else:
            count = 1
        count = max(count, lo)
    if isinstance(hi, int) and not isinstance(hi, bool):
        count = max(0, min(count, hi))
    return [synthesise(items, values, root, depth + 1) for _ in range(count)]


def _clamp(x: float, schema: dict[str, Any]) -> float:
    lo, hi = _num(schema.get("minimum")), _num(schema.get("maximum"))
    xlo, xhi = _num(schema.get("exclusiveMinimum")), _num(schema.get("exclusiveMaximum"))
    if lo is not None:
        x = max(x, lo)
    if hi is not None:
        x = min(x, hi)
    if xlo is not None and x <= xlo:
        x = xlo + 1
    if xhi is not None and x >= xhi:
        x = xhi - 1
    return x


def _prompt_number(values: PromptValues, raw: str | None = None) -> float | None:
    raw = values.next_number() if raw is None else raw
    if raw is None:
        return None
    x = float(raw)
    return x if math.isfinite(x) else None


def _integer(schema: dict[str, Any], values: PromptValues, raw: str | None = None) -> int:
    x = _prompt_number(values, raw)
    if x is not None:
        return int(_clamp(int(x), schema))
    default = schema.get("default")
    if isinstance(default, int) and not isinstance(default, bool):
        return default
    lo = _num(schema.get("minimum"))
    return int(_clamp(1 if lo is None else lo, schema))


def _number(schema: dict[str, Any], values: PromptValues, raw: str | None = None) -> float | int:
    x = _prompt_number(values, raw)
    if x is not None:
        x = _clamp(x, schema)
        return int(x) if x == int(x) else x
    default = _num(schema.get("default"))
    if default is not None:
        return default
    lo = _num(schema.get("minimum"))
    return _clamp(1 if lo is None else lo, schema)


def _string(schema: dict[str, Any], values: PromptValues, labelled: str | None = None) -> str:
    fmt = schema.get("format")
    if isinstance(fmt, str) and fmt in _FORMAT_DEFAULTS:
        return _FORMAT_DEFAULTS[fmt]
    default = schema.get("default")
    value: str | None
    if labelled is not None:
        value = labelled
    elif values.quoted:
        value = values.next_string()
    elif isinstance(default, str):
        value = default
    else:
        value = values.next_string()
    if value is None:
        title = schema.get("title")
        value = title if isinstance(title, str) and title else "value"
    lo = max(0, _int(schema.get("minLength"), 0))
    hi = schema.get("maxLength")
    if len(value) < lo:
        value = value + "x" * (lo - len(value))
    if isinstance(hi, int) and not isinstance(hi, bool) and len(value) > hi:
        value = value[: max(0, hi)]
    return value
