"""CloudWatch Logs filter patterns, evaluated as CloudWatch Logs does (issue 19).

moto 5.2.5 stores metric filters but never evaluates them, so no metric ever
rises from a log event. No maintained Python library evaluates CloudWatch Logs'
pattern language either, hence this small evaluator. It follows "Filter
pattern syntax for metric filters, subscription filters, filter log events"
(CloudWatch Logs user guide, FilterAndPatternSyntax):

* JSON patterns ``{ <expression> }``: selectors ``$.a.b``, ``$.a[0]``,
  ``$.a[1].b``; ``=``, ``!=``, ``>``, ``<``, ``>=``, ``<=``; ``&&`` binds
  tighter than ``||``; parentheses; ``*`` wildcards in quoted and unquoted
  values; ``IS NULL``, ``IS TRUE``, ``IS FALSE``, ``EXISTS``, ``NOT EXISTS``.
  A selector that names nothing (or a null, an array or an object) makes every
  comparison false, ``!=`` included.
* the empty pattern, which matches every event, and term patterns (``ERROR``,
  ``"quoted phrase"``, ``ERROR -DEBUG``, ``?ERROR ?WARN``), which match on the
  text of the event.

Not supported (``FilterPatternError``): space-delimited ``[a, b, ...]``
patterns and regular expressions (``%...%``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from typing import Any, Callable, Union

_MISSING = object()
_TOKEN = re.compile(
    r"""\s*(?:
        (?P<paren>[()])
      | (?P<logic>&&|\|\|)
      | (?P<op>!=|>=|<=|=|>|<)
      | (?P<quoted>"(?:[^"\\]|\\.)*")
      | (?P<word>[^\s()=!<>&|"]+)
    )""",
    re.VERBOSE,
)
_SELECTOR_PART = re.compile(r"\.([^.\[\]]+)|\[(\d+)\]")


class FilterPatternError(ValueError):
    """A pattern this evaluator cannot read (CloudWatch Logs: InvalidParameterException)."""


@dataclass(frozen=True)
class Comparison:
    path: tuple[Union[str, int], ...]
    operator: str
    value: str
    quoted: bool


@dataclass(frozen=True)
class Test:
    """``IS NULL`` / ``IS TRUE`` / ``IS FALSE`` / ``EXISTS`` / ``NOT EXISTS``."""

    path: tuple[Union[str, int], ...]
    test: str


@dataclass(frozen=True)
class Logic:
    operator: str  # "&&" or "||"
    operands: tuple[Any, ...]


# -- parsing --------------------------------------------------------------


def _tokens(text: str) -> list[tuple[str, str]]:
    tokens, position = [], 0
    text = text.rstrip()
    while position < len(text):
        match = _TOKEN.match(text, position)
        if not match or match.end() == position:
            raise FilterPatternError(f"Invalid character(s) in filter pattern at position {position}: {text[position:position + 20]!r}")
        kind = match.lastgroup or ""
        tokens.append((kind, match.group(kind)))
        position = match.end()
    return tokens


def _selector(text: str) -> tuple[Union[str, int], ...]:
    if not text.startswith("$"):
        raise FilterPatternError(f"A JSON filter pattern's selector starts with $: {text}")
    path: list[Union[str, int]] = []
    position = 1
    while position < len(text):
        match = _SELECTOR_PART.match(text, position)
        if not match:
            raise FilterPatternError(f"Invalid selector: {text}")
        path.append(match.group(1) if match.group(1) is not None else int(match.group(2)))
        position = match.end()
    if not path:
        raise FilterPatternError(f"A selector names a field: {text}")
    return tuple(path)


class _Parser:
    def __init__(self, tokens: list[tuple[str, str]]) -> None:
        self.tokens = tokens
        self.position = 0

    def peek(self) -> tuple[str, str]:
        return self.tokens[self.position] if self.position < len(self.tokens) else ("end", "")

    def take(self) -> tuple[str, str]:
        token = self.peek()
        self.position += 1
        return token

    def expression(self) -> Any:
        return self._joined("||", self.conjunction)

    def conjunction(self) -> Any:
        # && binds tighter than ||: an expression is ||-joined conjunctions.
        return self._joined("&&", self.term)

    def _joined(self, operator: str, operand: Callable[[], Any]) -> Any:
        """``operand (operator operand)*``: the one operand, or their Logic."""
        operands = [operand()]
        while self.peek() == ("logic", operator):
            self.take()
            operands.append(operand())
        return operands[0] if len(operands) == 1 else Logic(operator, tuple(operands))

    def term(self) -> Any:
        kind, text = self.take()
        if (kind, text) == ("paren", "("):
            inner = self.expression()
            if self.take() != ("paren", ")"):
                raise FilterPatternError("Unbalanced parentheses in filter pattern")
            return inner
        if kind != "word":
            raise FilterPatternError(f"Expected a selector, found {text!r}")
        path = _selector(text)
        kind, text = self.take()
        if kind == "op":
            value_kind, value = self.take()
            if value_kind == "quoted":
                return Comparison(path, text, json.loads(value), True)
            if value_kind == "word":
                if value.startswith("%"):
                    raise FilterPatternError("Regular expressions (%...%) are not supported by the local AWS")
                return Comparison(path, text, value, False)
            raise FilterPatternError(f"Expected a value after {text}")
        words = [text.upper()]
        while self.peek()[0] == "word" and self.peek()[1].upper() in ("NULL", "TRUE", "FALSE", "EXISTS"):
            words.append(self.take()[1].upper())
        test = " ".join(words)
        if test not in ("IS NULL", "IS TRUE", "IS FALSE", "EXISTS", "NOT EXISTS"):
            raise FilterPatternError(f"Expected a comparison after {path!r}, found {test!r}")
        return Test(path, test)


def parse(pattern: str) -> Any:
    """The pattern's syntax tree: a Logic/Comparison/Test for a JSON pattern,
    or ("terms", [...]) for a term pattern (an empty list matches everything)."""
    text = (pattern or "").strip()
    if text.startswith("{"):
        if not text.endswith("}"):
            raise FilterPatternError("A JSON filter pattern ends with }")
        parser = _Parser(_tokens(text[1:-1]))
        tree = parser.expression()
        if parser.peek()[0] != "end":
            raise FilterPatternError(f"Unexpected {parser.peek()[1]!r} in filter pattern")
        return tree
    if text.startswith("["):
        raise FilterPatternError("Space-delimited filter patterns are not supported by the local AWS")
    return ("terms", re.findall(r'[?-]?"(?:[^"\\]|\\.)*"|\S+', text))


# -- evaluation -----------------------------------------------------------


def _lookup(document: Any, path: tuple[Union[str, int], ...]) -> Any:
    value = document
    for part in path:
        if isinstance(part, int):
            if not isinstance(value, list) or part >= len(value):
                return _MISSING
            value = value[part]
        else:
            if not isinstance(value, dict) or part not in value:
                return _MISSING
            value = value[part]
    return value


def _number(text: Any) -> float | None:
    if isinstance(text, bool):
        return None
    if isinstance(text, (int, float)):
        return float(text)
    try:
        return float(text)
    except (TypeError, ValueError):
        return None


def _as_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, float) and value.is_integer():
        return str(int(value))
    return str(value)


def _equals(actual: Any, expected: str, quoted: bool) -> bool:
    if "*" in expected:
        # only * is a wildcard; fnmatch's ? and [ are literal here
        regex = ".*".join(re.escape(part) for part in expected.split("*"))
        return re.fullmatch(regex, _as_text(actual), re.DOTALL) is not None
    if isinstance(actual, (int, float)) and not isinstance(actual, bool) and not quoted:
        number = _number(expected)
        return number is not None and float(actual) == number
    return _as_text(actual) == expected


def _compare(node: Comparison, document: Any) -> bool:
    actual = _lookup(document, node.path)
    if actual is _MISSING or actual is None or isinstance(actual, (list, dict)):
        return False
    if node.operator == "=":
        return _equals(actual, node.value, node.quoted)
    if node.operator == "!=":
        return not _equals(actual, node.value, node.quoted)
    left, right = _number(actual), _number(node.value)
    if left is None or right is None or isinstance(actual, str):
        return False
    return {">": left > right, "<": left < right, ">=": left >= right, "<=": left <= right}[node.operator]


def _test(node: Test, document: Any) -> bool:
    actual = _lookup(document, node.path)
    return {
        "IS NULL": actual is None,
        "IS TRUE": actual is True,
        "IS FALSE": actual is False,
        "EXISTS": actual is not _MISSING,
        "NOT EXISTS": actual is _MISSING,
    }[node.test]


def _evaluate(node: Any, document: Any) -> bool:
    if isinstance(node, Logic):
        results = (_evaluate(operand, document) for operand in node.operands)
        return all(results) if node.operator == "&&" else any(results)
    if isinstance(node, Comparison):
        return _compare(node, document)
    return _test(node, document)


def _term_match(terms: list[str], message: str) -> bool:
    def found(term: str) -> bool:
        return (json.loads(term) if term.startswith('"') else term) in message

    required = [t for t in terms if not t.startswith(("?", "-"))]
    optional = [t[1:] for t in terms if t.startswith("?")]
    excluded = [t[1:] for t in terms if t.startswith("-")]
    return all(found(t) for t in required) and (not optional or any(found(t) for t in optional)) and not any(found(t) for t in excluded)


def matches(pattern: str, message: str) -> bool:
    """Whether a log event's message matches ``pattern``. A JSON pattern never
    matches a message that is not a JSON object."""
    tree = parse(pattern)
    if isinstance(tree, tuple) and tree[0] == "terms":
        return _term_match(tree[1], message)
    try:
        document = json.loads(message)
    except ValueError:
        return False
    return isinstance(document, dict) and _evaluate(tree, document)


def metric_value(transformation: dict[str, Any], message: str) -> float | None:
    """The value a matching event publishes: a number, or ``$.field`` of the event (None when absent or not a number)."""
    value = str(transformation.get("metricValue", "1"))
    if not value.startswith("$"):
        return _number(value)
    try:
        document = json.loads(message)
    except ValueError:
        return None
    found = _lookup(document, _selector(value))
    return None if found is _MISSING else _number(found)


def dimensions(transformation: dict[str, Any], message: str) -> list[dict[str, str]]:
    """The metric's dimensions, each ``$.field`` of the event (dimensions whose field is absent are left out)."""
    result = []
    try:
        document = json.loads(message)
    except ValueError:
        document = {}
    for name, selector in sorted((transformation.get("dimensions") or {}).items()):
        found = _lookup(document, _selector(selector)) if str(selector).startswith("$") else selector
        if found is not _MISSING and found is not None:
            result.append({"Name": name, "Value": _as_text(found)})
    return result


__all__ = ["FilterPatternError", "parse", "matches", "metric_value", "dimensions"]
