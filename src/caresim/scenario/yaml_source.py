"""One YAML file read safely into plain data, with a `SourceMap` of the file, line and column of every value."""

import re
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from caresim.scenario.problems import Problem, ScenarioError

FieldPath = tuple[Any, ...]

_YAML = "tag:yaml.org,2002:"
_VALUE_TAG = f"{_YAML}value"
_MERGE_TAG = f"{_YAML}merge"
_ALLOWED_TAGS = {
    yaml.ScalarNode: {
        f"{_YAML}{name}" for name in ("null", "bool", "int", "float", "str", "timestamp", "value")
    },
    yaml.SequenceNode: {f"{_YAML}seq"},
    yaml.MappingNode: {f"{_YAML}map"},
}
_MAX_VALUES = 100_000


# --- where things are -----------------------------------------------------------------------


@dataclass(frozen=True)
class Location:
    """A place in a scenario file; line and column count from 1."""

    file: str
    line: int | None = None
    column: int | None = None


@dataclass
class SourceMap:
    """Where each field path's key and value were written, possibly across several files."""

    file: str
    keys: dict[FieldPath, Location] = field(default_factory=dict)
    values: dict[FieldPath, Location] = field(default_factory=dict)

    def locate(self, path: FieldPath, *, at_key: bool = False) -> Location:
        """The place to point at for `path`: its key or value, else its nearest written parent."""
        first, second = (self.keys, self.values) if at_key else (self.values, self.keys)
        found = first.get(path) or second.get(path)
        if found is not None:
            return found
        for length in range(len(path) - 1, -1, -1):
            parent = path[:length]
            found = self.keys.get(parent) or self.values.get(parent)
            if found is not None:
                return found
        return Location(self.file)

    @classmethod
    def covering(cls, data: Any, sources: Sequence["SourceMap"]) -> "SourceMap":
        """A map of every path in `data`, each taken from the first source that knows it."""
        result = cls(sources[0].file)
        for path in _paths(data):
            for source in sources:
                if path in source.values:
                    result.values[path] = source.values[path]
                    if path in source.keys:
                        result.keys[path] = source.keys[path]
                    break
        return result


def _paths(value: Any, path: FieldPath = ()) -> Iterator[FieldPath]:
    yield path
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*path, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*path, index))


def render_path(path: FieldPath) -> str:
    """A field path as people write it: `schemes[2].effects[0].kind`."""
    text = ""
    for element in path:
        if isinstance(element, int) and not isinstance(element, bool):
            text += f"[{element}]"
        elif isinstance(element, str) and re.fullmatch(r"[^.\[\]\s'\"]+", element):
            text += f".{element}" if text else element
        else:
            text += f"[{element!r}]"
    return text


# --- reading one YAML file ------------------------------------------------------------------


def read_yaml(path: Path) -> tuple[dict[str, Any], SourceMap]:
    """Read one YAML file safely into plain data, with where every key and value was written."""
    file = str(path)
    root = _compose(_read_text(path), file)
    if root is None:
        raise _error(file, "the file is empty: it holds no settings")
    builder = _Builder(file)
    if not builder.tag_allowed(root, ()):
        raise ScenarioError(builder.problems)
    if not isinstance(root, yaml.MappingNode):
        shape = "a list" if isinstance(root, yaml.SequenceNode) else "a single value"
        raise ScenarioError([Problem(
            file, root.start_mark.line + 1, root.start_mark.column + 1, "",
            f"the top level of the file must be 'name: value' lines, but it holds {shape}",
        )])
    data = builder.build(root, ())
    if builder.problems:
        raise ScenarioError(builder.problems)
    return data, SourceMap.covering(data, [builder.source_map])


def _error(file: str, message: str, hint: str | None = None) -> ScenarioError:
    return ScenarioError([Problem(file, None, None, "", message, hint=hint)])


def _read_text(path: Path) -> str:
    file = str(path)
    if path.is_dir():
        raise _error(file, "this is a folder, not a scenario file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raise _error(
            file, "the file does not exist",
            "check the spelling; a relative path starts from the folder you run caresim in",
        ) from None
    except OSError as error:
        raise _error(file, f"the file could not be opened: {error.strerror or error}") from None
    try:
        return raw.decode("utf-8-sig")
    except UnicodeDecodeError as error:
        line_start = raw.rfind(b"\n", 0, error.start) + 1
        raise ScenarioError([Problem(
            file, raw.count(b"\n", 0, error.start) + 1, error.start - line_start + 1, "",
            f"the file is not saved as UTF-8 text (byte 0x{raw[error.start]:02X} cannot be read)",
            hint="save it again choosing the UTF-8 encoding (Save As → Encoding: UTF-8)",
        )]) from None


def _compose(text: str, file: str) -> yaml.Node | None:
    try:
        loader = yaml.SafeLoader(text)
        try:
            return loader.get_single_node()
        finally:
            loader.dispose()
    except yaml.MarkedYAMLError as error:
        raise ScenarioError([_syntax_problem(error, file)]) from None
    except yaml.reader.ReaderError as error:
        line = text.count("\n", 0, error.position) + 1
        column = error.position - text.rfind("\n", 0, error.position)
        raise ScenarioError([Problem(
            file, line, column, "",
            f"the file contains a character YAML does not allow (#x{error.character:04x})",
            hint="delete it; it is often an invisible character pasted from another program",
        )]) from None
    except RecursionError:
        raise _error(file, "the YAML could not be read: it is nested too deeply") from None


_CONTEXT_MARKS = ("while scanning a quoted", "while scanning a simple key", "while parsing a flow")
_INDENTATION = ("expected <block end>", "did not find expected key", "did not find expected '-'")


def _syntax_problem(error: yaml.MarkedYAMLError, file: str) -> Problem:
    problem, context = error.problem or "", error.context or ""
    mark = error.problem_mark
    if context.startswith(_CONTEXT_MARKS) and error.context_mark is not None:
        mark = error.context_mark
    line, column = (mark.line + 1, mark.column + 1) if mark is not None else (None, None)
    return Problem(file, line, column, "", f"the YAML could not be read: {_syntax_advice(problem, context)}")


def _syntax_advice(problem: str, context: str) -> str:
    if "'\\t'" in problem:
        return ("this line holds a tab character; YAML allows only spaces for indentation, "
                "so replace the tab with spaces")
    if "cannot start any token" in problem:
        character = problem.removeprefix("found character ").split(" that")[0]
        return f"a value cannot start with {character}; put the whole value in quotes"
    if context.startswith("while scanning a quoted"):
        return "a quote opened here is never closed; add the closing quote"
    if context.startswith("while parsing a flow"):
        return "a bracket opened here is never closed; check its matching ']' or '}'"
    if "could not find expected ':'" in problem:
        return "this line has no ':' between a name and its value; check this line and its indentation"
    if "mapping values are not allowed" in problem:
        return ("there is an unexpected ':' on this line; check the indentation of this line, "
                "and put quotes around a value that contains ': '")
    if "expected a single document" in context:
        return "the file holds more than one YAML document (a second '---' line); keep only one"
    if "undefined alias" in problem:
        return "an alias (*name) refers to an anchor (&name) that is not defined before it"
    if problem.startswith(_INDENTATION):
        return "this line does not line up with the lines above it; check the indentation of this line"
    return f"{problem}; check the indentation of this line"


class _Builder:
    """Builds plain data from YAML nodes, refusing tags and duplicate keys, and noting positions."""

    def __init__(self, file: str) -> None:
        self.file = file
        self.problems: list[Problem] = []
        self.source_map = SourceMap(file)
        self.constructor = yaml.constructor.SafeConstructor()
        self.count = 0
        self.open_nodes: set[int] = set()

    def location(self, node: yaml.Node) -> Location:
        return Location(self.file, node.start_mark.line + 1, node.start_mark.column + 1)

    def problem(self, node: yaml.Node, path: FieldPath, message: str, **details: str | None) -> None:
        location = self.location(node)
        self.problems.append(Problem(
            self.file, location.line, location.column, render_path(path), message, **details,
        ))

    def build(self, node: yaml.Node, path: FieldPath) -> Any:
        self.count += 1
        if self.count > _MAX_VALUES:
            if self.count == _MAX_VALUES + 1:
                self.problem(node, (), f"the file expands to more than {_MAX_VALUES:,} values",
                             hint="an alias (*name) is repeated too many times")
            return None
        if id(node) in self.open_nodes:
            self.problem(node, path, "an alias (*name) is used inside the anchor (&name) it refers to")
            return None
        if not self.tag_allowed(node, path):
            return None
        self.open_nodes.add(id(node))
        try:
            if isinstance(node, yaml.MappingNode):
                value = self.mapping(node, path)
            elif isinstance(node, yaml.SequenceNode):
                value = self.sequence(node, path)
            else:
                value = self.scalar(node, path)
        finally:
            self.open_nodes.discard(id(node))
        self.source_map.values[path] = self.location(node)
        return value

    def tag_allowed(self, node: yaml.Node, path: FieldPath) -> bool:
        if node.tag in _ALLOWED_TAGS[type(node)]:
            return True
        self.problem(node, path, "tags are not allowed", found=node.tag.replace(_YAML, "!!"),
                     hint="write a plain value, without the part starting with '!'")
        return False

    def scalar(self, node: yaml.Node, path: FieldPath) -> Any:
        if node.tag == _VALUE_TAG or (node.tag in {f"{_YAML}int", f"{_YAML}float"} and ":" in node.value):
            return node.value
        try:
            return self.constructor.construct_object(node)
        except ValueError as error:
            self.problem(node, path, f"this looks like a date but is not a real one ({error})",
                         found=repr(node.value), hint="write dates as YYYY-MM-DD")
            return None

    def sequence(self, node: yaml.SequenceNode, path: FieldPath) -> list[Any]:
        items = []
        for index, item in enumerate(node.value):
            items.append(self.build(item, (*path, index)))
            self.source_map.keys[(*path, index)] = self.location(item)
        return items

    def mapping(self, node: yaml.MappingNode, path: FieldPath) -> dict[Any, Any]:
        inherited = self.merged(node, path)
        result: dict[Any, Any] = {}
        first_lines: dict[Any, int] = {}
        for key_node, value_node in node.value:
            if key_node.tag == _MERGE_TAG:
                continue
            if not isinstance(key_node, yaml.ScalarNode):
                self.problem(key_node, path, "a name before ':' must be plain text, not a list or a section")
                continue
            if not self.tag_allowed(key_node, path):
                continue
            key = self.scalar(key_node, path)
            if key in first_lines:
                self.problem(
                    key_node, (*path, key),
                    f"'{key}' appears more than once here (first on line {first_lines[key]})",
                    hint="YAML would silently keep only the last one; delete or rename one of them",
                )
            first_lines[key] = key_node.start_mark.line + 1
            result[key] = self.build(value_node, (*path, key))
            self.source_map.keys[(*path, key)] = self.location(key_node)
        return {**{key: value for key, value in inherited.items() if key not in result}, **result}

    def merged(self, node: yaml.MappingNode, path: FieldPath) -> dict[Any, Any]:
        """Entries brought in with `<<: *anchor`; earlier anchors win over later ones."""
        inherited: dict[Any, Any] = {}
        for key_node, value_node in node.value:
            if key_node.tag != _MERGE_TAG:
                continue
            sources = value_node.value if isinstance(value_node, yaml.SequenceNode) else [value_node]
            for source in sources:
                if not isinstance(source, yaml.MappingNode):
                    self.problem(source, path,
                                 "'<<' must be followed by an alias of a section, such as <<: *defaults")
                    continue
                for key, value in self.build(source, path).items():
                    inherited.setdefault(key, value)
        return inherited
