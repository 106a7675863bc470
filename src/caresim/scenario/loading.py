"""Reading scenario files: safe YAML with line numbers, `extends:`, and errors for people.

`read_yaml` turns one file into plain data and a `SourceMap` (where every value came from),
`resolve` follows `extends:` and merges, `validate` turns pydantic errors into `Problem`s, and
`load_scenario` does all three. Every mistake is raised as one `ScenarioError` listing them all.
"""

import difflib
import os
import re
import types
import typing
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any, Literal, TypeVar, Union

import yaml
from pydantic import BaseModel, RootModel, ValidationError
from pydantic_core import ErrorDetails

from caresim.scenario.problems import FieldError, Problem, ScenarioError

if TYPE_CHECKING:
    from caresim.scenario.schema import Scenario

FieldPath = tuple[Any, ...]
Model = TypeVar("Model", bound=BaseModel)

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


# --- extends and include -------------------------------------------------------------------


def resolve(path: Path) -> tuple[dict[str, Any], SourceMap]:
    """Read a scenario file and the files it `extends`, merged with the child winning, then the
    schemes of the library files it `include`s, the scenario's own schemes winning key by key.

    Included schemes join no mix by themselves: when any file is included and no `mix` is given,
    `mix` is set to the scenario's own schemes (those written in a scenario file, not a library).
    """
    libraries: set[str] = set()
    data, source_map = _resolve(path, (), libraries)
    schemes = data.get("schemes")
    if libraries and "mix" not in data and isinstance(schemes, dict):
        data["mix"] = [name for name in schemes
                       if source_map.locate(("schemes", name), at_key=True).file not in libraries]
    return data, source_map


def _resolve(path: Path, chain: tuple[Path, ...], libraries: set[str]) -> tuple[dict[str, Any], SourceMap]:
    data, source_map = read_yaml(path)
    chain = (*chain, path)
    own_map = source_map
    includes = data.pop("include", _ABSENT)
    if "extends" in data:
        parent = _linked_file(path, data.pop("extends"), own_map, ("extends",), chain)
        parent_data, parent_map = _resolve(parent, chain, libraries)
        data = _deep_merge(parent_data, data)
        source_map = SourceMap.covering(data, [own_map, parent_map])
    if includes is _ABSENT:
        return data, source_map
    included, maps = _included_schemes(path, includes, own_map, chain, libraries)
    own = data.get("schemes") or {}
    if not isinstance(own, dict):
        return data, source_map
    merged = _deep_merge(included, own)
    data = {**data, "schemes": {name: merged[name] for name in dict.fromkeys([*own, *included])}}
    return data, SourceMap.covering(data, [source_map, *maps])


def _included_schemes(path: Path, includes: Any, own_map: SourceMap, chain: tuple[Path, ...],
                      libraries: set[str]) -> tuple[dict[str, Any], list[SourceMap]]:
    """The schemes of every file `include` names (each file may hold only `schemes`), with their maps."""
    if isinstance(includes, str):
        includes, places = [includes], [("include",)]
    elif isinstance(includes, list):
        places = [("include", index) for index in range(len(includes))]
    else:
        raise _link_error(own_map, ("include",), "must be a list of library files", found=_describe(includes),
                          hint="for example: include: [library/kent_schemes.yaml]")
    included: dict[str, Any] = {}
    maps = []
    for name, place in zip(includes, places, strict=True):
        library = _linked_file(path, name, own_map, place, chain)
        library_data, library_map = _resolve(library, chain, libraries)
        libraries.add(str(library))
        for key, value in library_data.items():
            if key != "schemes" or not isinstance(value, dict):
                message = ("must be a section of named schemes" if key == "schemes" else
                           f"an included file may hold only 'schemes', but it holds '{key}'")
                raise _link_error(library_map, (key,), message, at_key=True,
                                  hint="move other settings into a scenario file and use extends")
            for scheme in value:
                if scheme in included:
                    raise _link_error(library_map, ("schemes", scheme), "this scheme is also defined in an "
                                      "earlier included file", at_key=True, hint="rename one of them, or "
                                      "define it in the scenario file, whose definition wins")
            included.update(value)
        maps.append(library_map)
    return included, maps


def _linked_file(path: Path, name: Any, source_map: SourceMap, where: FieldPath, chain: tuple[Path, ...]) -> Path:
    """The file an `extends` or `include` entry names, relative to `path`, checked to exist and not loop."""
    key = where[0]
    if not isinstance(name, str) or not name.strip():
        kind = "library" if key == "include" else "scenario"
        raise _link_error(source_map, where, f"must be the name of another {kind} file",
                          found=_describe(name), hint=f"for example: {key}: base.yaml")
    linked = Path(os.path.normpath(path.parent / name))
    if not linked.exists():
        raise _link_error(source_map, where, f"the file it names does not exist (looked for {linked})",
                          found=repr(name), hint="the path is read relative to this file's folder")
    if any(linked.resolve() == earlier.resolve() for earlier in chain):
        loop = [str(earlier) for earlier in chain] + [str(linked)]
        raise _link_error(source_map, where, f"{key} goes round in a loop: {' → '.join(loop)}",
                          hint=f"remove the {key} line that leads back to an earlier file")
    return linked


def _link_error(source_map: SourceMap, where: FieldPath, message: str, at_key: bool = False,
                **details: str | None) -> ScenarioError:
    location = source_map.locate(where, at_key=at_key)
    problem = Problem(location.file, location.line, location.column, render_path(where), message, **details)
    return ScenarioError([problem])


def _deep_merge(parent: Any, child: Any) -> Any:
    """Sections merge key by key; anything else in the child replaces the parent's value."""
    if not (isinstance(parent, dict) and isinstance(child, dict)):
        return child
    merged = dict(parent)
    for key, value in child.items():
        merged[key] = _deep_merge(parent[key], value) if key in parent else value
    return merged


# --- loading a scenario ---------------------------------------------------------------------


def load_scenario(path: Path) -> "Scenario":
    """Read, merge and validate a scenario file into a `Scenario`, or raise every problem found."""
    from caresim.scenario.schema import Scenario

    data, source_map = resolve(path)
    return validate(Scenario, data, source_map)


def validate(model: type[Model], data: Any, source_map: SourceMap) -> Model:
    """Validate `data` as `model`, turning every pydantic error into a `Problem` at its line."""
    try:
        return model.model_validate(data)
    except ValidationError as error:
        raise ScenarioError(_problems(model, data, source_map, error.errors())) from None


def _problems(
    model: type[BaseModel], data: Any, source_map: SourceMap, errors: list[ErrorDetails],
) -> list[Problem]:
    walked = [(error, _walk(model, data, error)) for error in errors]
    drafts = [_draft(error, walk) for error, walk in _best_branches(walked)]
    problems = []
    for draft in _joined(drafts):
        location = source_map.locate(draft.path, at_key=draft.at_key)
        problems.append(Problem(
            location.file, location.line, location.column, render_path(draft.path),
            draft.message or f"must be {' or '.join(draft.requirements)}",
            draft.found, draft.allowed, draft.hint,
        ))
    return problems


# --- following a pydantic error location through the model and the data ---------------------

_ABSENT = object()


@dataclass(frozen=True)
class _Walk:
    """Where a pydantic error points, with union labels removed."""

    path: FieldPath
    value: Any
    parent: Any
    annotation: Any
    container: Any
    branches: tuple[tuple[FieldPath, Any], ...]
    in_key: bool


def _walk(model: type[BaseModel], data: Any, error: ErrorDetails) -> _Walk:
    annotation: Any = model
    container: Any = None
    value: Any = data
    parent: Any = _ABSENT
    path: list[Any] = []
    branches: list[tuple[FieldPath, Any]] = []
    in_key = False
    loc = error["loc"]
    for position, element in enumerate(loc):
        annotation = _unwrap(annotation)
        members = _union_members(annotation)
        if members:
            branches.append((tuple(path), element))
            annotation = _member_for(element, members)
            continue
        if element == "[key]":
            in_key = True
            annotation = _key_annotation(container)
            continue
        names_key = position == len(loc) - 1 and error["type"] in {"missing", "extra_forbidden"}
        if annotation is None and not _holds(value, element) and not names_key:
            continue
        container, parent = annotation, value
        annotation = _child_annotation(annotation, element)
        if isinstance(value, dict) and element in value:  # the key as written: True, not pydantic's 1
            element = next(key for key in value if key == element)
        value = value[element] if _holds(value, element) else _ABSENT
        path.append(element)
    return _Walk(tuple(path), value, parent, annotation, container, tuple(branches), in_key)


def _holds(value: Any, element: Any) -> bool:
    if isinstance(value, dict):
        return element in value
    if isinstance(value, list):
        return isinstance(element, int) and 0 <= element < len(value)
    return False


def _unwrap(annotation: Any) -> Any:
    """Strip `Annotated`, `Optional` and root models down to the type that matters."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType) and len(_union_members(annotation) or ()) == 1:
            annotation = _union_members(annotation)[0]
        elif _is_model(annotation) and issubclass(annotation, RootModel):
            annotation = annotation.model_fields["root"].annotation
        else:
            return annotation


def _union_members(annotation: Any) -> list[Any] | None:
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return None
    return [member for member in typing.get_args(annotation) if member is not type(None)]


def _is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _member_for(label: Any, members: list[Any]) -> Any:
    """The union member a pydantic label (a type name or a discriminator value) stands for."""
    name = str(label)
    wrapped = re.fullmatch(r"function-\w+\[.*, (\w+)\]", name)
    name = (wrapped.group(1) if wrapped else name).removeprefix("constrained-")
    shared = _shared_literal_fields(members)
    for member in members:
        base = _unwrap(member)
        if typing.get_origin(base) is Literal:
            label_name = f"literal[{','.join(repr(value) for value in typing.get_args(base))}]"
        elif _is_model(base) and any(label in _tag_values(base, field) for field in shared):
            label_name = name
        else:
            label_name = getattr(base, "__name__", None)
        if label_name == name:
            return member
    return None


def _shared_literal_fields(members: list[Any]) -> set[str]:
    """Names of `Literal` fields every model member has: the candidates for a discriminator."""
    models = [base for base in map(_unwrap, members) if _is_model(base)]
    fields = [{name for name in model.model_fields if _tag_values(model, name)} for model in models]
    return set.intersection(*fields) if fields else set()


def _tag_values(model: type[BaseModel], field_name: str) -> list[Any]:
    """The values a model's `Literal` field allows: its tags in a discriminated union."""
    info = _model_field(model, field_name)
    literal = _unwrap(info.annotation) if info is not None else None
    return list(typing.get_args(literal)) if typing.get_origin(literal) is Literal else []


def _model_field(model: type[BaseModel], element: Any) -> Any:
    for name, info in model.model_fields.items():
        if element in (name, info.alias):
            return info
    return None


def _child_annotation(annotation: Any, element: Any) -> Any:
    if _is_model(annotation):
        info = _model_field(annotation, element)
        return info.annotation if info is not None else None
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if not arguments or not isinstance(origin, type):
        return None
    if issubclass(origin, Mapping):
        return arguments[-1]
    if issubclass(origin, tuple) and arguments[-1] is not Ellipsis:
        return arguments[element] if isinstance(element, int) and element < len(arguments) else None
    if issubclass(origin, (Sequence, set, frozenset)):
        return arguments[0]
    return None


def _key_annotation(annotation: Any) -> Any:
    origin, arguments = typing.get_origin(annotation), typing.get_args(annotation)
    if isinstance(origin, type) and issubclass(origin, Mapping) and arguments:
        return arguments[0]
    return None


def _field_names(annotation: Any) -> list[str]:
    """Field names allowed in a section of this type (all members' fields for a union)."""
    annotation = _unwrap(annotation)
    if _is_model(annotation):
        return [info.alias or name for name, info in annotation.model_fields.items()]
    names: dict[str, None] = {}
    for member in _union_members(annotation) or ():
        names.update(dict.fromkeys(_field_names(member)))
    return list(names)


def _best_branches(walked: list[tuple[ErrorDetails, _Walk]]) -> list[tuple[ErrorDetails, _Walk]]:
    """Keep, for each union, only the branch that best fits the data.

    A branch "fits" when its errors reach inside the value (the value had that branch's shape);
    among fitting branches the one with the fewest errors wins, deepest unions first. When no
    branch fits, every branch is kept so their requirements can be listed together
    ("a whole number or 'unlimited'").
    """
    points = sorted({point for _, walk in walked for point, _ in walk.branches}, key=len, reverse=True)
    for point in points:
        by_branch: dict[Any, list[_Walk]] = {}
        for _, walk in walked:
            for branch in (branch for where, branch in walk.branches if where == point):
                by_branch.setdefault(branch, []).append(walk)
        fitting = {branch: walks for branch, walks in by_branch.items()
                   if any(len(walk.path) > len(point) for walk in walks)}
        if fitting:
            best = min(fitting, key=lambda branch: len(fitting[branch]))
            walked = [(error, walk) for error, walk in walked
                      if all(where != point or branch == best for where, branch in walk.branches)]
    return walked


# --- rewriting one error for people ---------------------------------------------------------


@dataclass
class _Draft:
    """A problem before it is placed in the file; `requirements` join with 'or'."""

    path: FieldPath
    at_key: bool = False
    message: str | None = None
    requirements: list[str] = field(default_factory=list)
    found: str | None = None
    allowed: str | None = None
    hint: str | None = None


def _joined(drafts: list[_Draft]) -> list[_Draft]:
    """Merge drafts that state requirements for the same value (one per union branch)."""
    result: list[_Draft] = []
    by_path: dict[FieldPath, _Draft] = {}
    for draft in drafts:
        earlier = by_path.get(draft.path) if draft.requirements else None
        if earlier is None:
            result.append(draft)
            if draft.requirements:
                by_path[draft.path] = draft
            continue
        earlier.requirements.extend(item for item in draft.requirements if item not in earlier.requirements)
        earlier.allowed = _join_unique(earlier.allowed, draft.allowed, ", ")
        earlier.hint = _join_unique(earlier.hint, draft.hint, "; ")
    for draft in result:
        if "a number" in draft.requirements and "a whole number" in draft.requirements:
            draft.requirements.remove("a whole number")
    return result


def _join_unique(first: str | None, second: str | None, separator: str) -> str | None:
    if first is None or second is None or second == first:
        return first or second
    return f"{first}{separator}{second}"


_NUMBER_ERRORS = {
    "int_parsing", "int_type", "float_parsing", "float_type", "decimal_parsing", "decimal_type",
    "greater_than", "greater_than_equal", "less_than", "less_than_equal",
}
_REQUIREMENTS = {
    "int_parsing": "a whole number", "int_type": "a whole number", "int_from_float": "a whole number",
    "int_parsing_size": "a whole number of a sensible size",
    "float_parsing": "a number", "float_type": "a number", "decimal_parsing": "a number",
    "decimal_type": "a number", "finite_number": "a finite number",
    "bool_parsing": "true or false", "bool_type": "true or false",
    "string_type": "text", "none_required": "empty",
    "list_type": "a list (lines starting with '- ')", "tuple_type": "a list (lines starting with '- ')",
    "set_type": "a list (lines starting with '- ')",
    "dict_type": "a section of 'name: value' lines", "model_type": "a section of 'name: value' lines",
    "model_attributes_type": "a section of 'name: value' lines",
    "date_type": "a date written as YYYY-MM-DD", "date_parsing": "a date written as YYYY-MM-DD",
    "date_from_datetime_parsing": "a date written as YYYY-MM-DD",
    "date_from_datetime_inexact": "a date written as YYYY-MM-DD",
    "datetime_type": "a date and time written as YYYY-MM-DD HH:MM:SS",
    "datetime_parsing": "a date and time written as YYYY-MM-DD HH:MM:SS",
    "datetime_from_date_parsing": "a date and time written as YYYY-MM-DD HH:MM:SS",
    "time_type": "a time written as HH:MM", "time_parsing": "a time written as HH:MM",
}
_BOUNDS = {"greater_than": ">", "greater_than_equal": "≥", "less_than": "<", "less_than_equal": "≤"}
_BOUND_KEYS = {"greater_than": "gt", "greater_than_equal": "ge", "less_than": "lt", "less_than_equal": "le"}


def _draft(error: ErrorDetails, walk: _Walk) -> _Draft:
    kind = error["type"]
    context = error.get("ctx", {})
    value = error.get("input") if walk.value is _ABSENT or walk.in_key else walk.value
    name = walk.path[-1] if walk.path else None
    if walk.in_key:
        return _key_draft(kind, context, walk)
    if kind == "invalid_key":
        return _Draft(walk.path, True, f"the name {name!r} must be text", hint="put it in quotes to make it text")
    if kind == "missing":
        return _Draft(walk.path, True, f"required field '{name}' is missing",
                      hint=_misspelt_key_hint(str(name), walk))
    if kind == "extra_forbidden":
        names = _field_names(walk.container)
        return _Draft(walk.path, True, f"unknown field '{name}'",
                      allowed=", ".join(names) or None, hint=_did_you_mean(name, names))
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        return _tag_draft(kind, context, walk)
    if kind in {"value_error", "assertion_error"}:
        return _validator_draft(error, walk, value)
    draft = _Draft(walk.path, found=_describe(value))
    requirement = _requirement(kind, context, walk.annotation)
    if requirement is None:
        draft.message = re.sub(r"^Input should be", "must be", error["msg"])
    else:
        draft.requirements.append(requirement)
    if kind in {"literal_error", "enum"}:
        choices = _choices(walk.annotation)
        if len(choices) > 1:
            draft.allowed = ", ".join(repr(choice) for choice in choices)
        draft.hint = _did_you_mean(value, choices)
    elif kind in _NUMBER_ERRORS and isinstance(value, str):
        draft.hint = spreadsheet_hint(value)
    elif kind in _NUMBER_ERRORS and isinstance(value, date):
        draft.hint = f"YAML reads {value.isoformat()} as a date; write a number here"
    elif kind.startswith("date") and isinstance(value, str):
        draft.hint = date_hint(value)
    else:
        draft.hint = _text_hint(kind, context, value)
    return draft


def _validator_draft(error: ErrorDetails, walk: _Walk, value: Any) -> _Draft:
    """A model validator's message, placed at the field a `FieldError` names inside the model."""
    cause = error.get("ctx", {}).get("error")
    message = str(cause) if cause is not None else error["msg"]
    if not isinstance(cause, FieldError):
        container = isinstance(value, (dict, list))
        return _Draft(walk.path, container, message, found=None if container else _describe(value))
    for element in cause.path:
        value = value[element] if _holds(value, element) else _ABSENT
    return _Draft((*walk.path, *cause.path), isinstance(value, (dict, list)), message,
                  allowed=", ".join(cause.choices) or None, hint=_did_you_mean(value, cause.choices))


def _text_hint(kind: str, context: dict[str, Any], value: Any) -> str | None:
    if kind == "string_type" and value is not None and not isinstance(value, (dict, list)):
        return "put it in quotes to make it text"
    if kind == "string_pattern_mismatch" and isinstance(value, str):
        candidate = re.sub(r"\W+", "_", value.strip()).strip("_").lower()
        if re.fullmatch(context["pattern"], candidate):
            return f"for example {candidate!r}"
    return None


def _requirement(kind: str, context: dict[str, Any], annotation: Any) -> str | None:
    if kind in _BOUNDS:
        bound = context[_BOUND_KEYS[kind]]
        return f"{_noun(annotation)} {_BOUNDS[kind]} {_number_text(bound)}"
    if kind == "multiple_of":
        return f"a multiple of {_number_text(context['multiple_of'])}"
    if kind in {"literal_error", "enum"}:
        choices = _choices(annotation)
        expected = context.get("expected", "")
        several = len(choices) > 1 or (not choices and " or " in expected)
        return "one of the allowed values" if several else expected
    if kind in {"too_short", "too_long"}:
        size = context["min_length" if kind == "too_short" else "max_length"]
        bound = "at least" if kind == "too_short" else "at most"
        if context.get("field_type") == "Dictionary":
            return f"a section with {bound} {size} {'entry' if size == 1 else 'entries'}"
        return f"a list with {bound} {size} {'item' if size == 1 else 'items'}"
    if kind == "string_too_short":
        size = context["min_length"]
        return "text that is not empty" if size == 1 else f"text of at least {size} characters"
    if kind == "string_too_long":
        return f"text of at most {context['max_length']} characters"
    if kind == "string_pattern_mismatch":
        return _pattern_words(context["pattern"])
    return _REQUIREMENTS.get(kind)


_CHARACTER_RANGES = {"a-z": "lower-case letters", "A-Z": "capital letters", "0-9": "digits"}


def _pattern_words(pattern: str) -> str:
    """A pattern like `^[a-z0-9_]+$` in words; other patterns as they are."""
    match = re.fullmatch(r"\^\[([^\]\\]+)\]\+\$", pattern)
    if match is None:
        return f"text matching the pattern {pattern}"
    characters = match.group(1)
    words = [word for span, word in _CHARACTER_RANGES.items() if span in characters]
    for span in _CHARACTER_RANGES:
        characters = characters.replace(span, "")
    words += [repr(character) for character in characters]
    listed = ", ".join(words[:-1]) + f" and {words[-1]}" if len(words) > 1 else words[0]
    return f"text made only of {listed}"


def _noun(annotation: Any) -> str:
    base = _unwrap(annotation)
    if base is int:
        return "a whole number"
    if isinstance(base, type) and issubclass(base, date):
        return "a date"
    return "a number"


def _number_text(number: Any) -> str:
    if isinstance(number, float) and number.is_integer():
        return str(int(number))
    return str(number)


def _choices(annotation: Any) -> list[Any]:
    base = _unwrap(annotation)
    if typing.get_origin(base) is Literal:
        return list(typing.get_args(base))
    if isinstance(base, type) and issubclass(base, Enum):
        return [member.value for member in base]
    return []


def _key_draft(kind: str, context: dict[str, Any], walk: _Walk) -> _Draft:
    """A problem with a name in a section whose names are data (a `dict` field)."""
    name = walk.path[-1]
    choices = _choices(walk.annotation)
    if choices:
        return _Draft(walk.path, True, f"'{name}' is not one of the names allowed here",
                      allowed=", ".join(repr(choice) for choice in choices),
                      hint=_did_you_mean(name, choices))
    requirement = _requirement(kind, context, walk.annotation)
    if requirement is None:
        return _Draft(walk.path, True, f"the name {name!r} is not allowed here")
    return _Draft(walk.path, True, f"the name {name!r} must be {requirement}",
                  hint=_text_hint(kind, context, name))


def _tag_draft(kind: str, context: dict[str, Any], walk: _Walk) -> _Draft:
    discriminator = str(context.get("discriminator", "")).strip("'")
    is_field = discriminator.isidentifier()
    path = (*walk.path, discriminator) if is_field else walk.path
    tags = [tag for member in _union_members(_unwrap(walk.annotation)) or ()
            if _is_model(_unwrap(member)) for tag in _tag_values(_unwrap(member), discriminator)]
    allowed = ", ".join(repr(tag) for tag in tags) or context.get("expected_tags")
    if kind == "union_tag_not_found":
        if not is_field:
            return _Draft(path, True, "the kind of entry cannot be told", allowed=allowed)
        return _Draft(path, True, f"required field '{discriminator}' is missing", allowed=allowed)
    found = context.get("tag")
    return _Draft(path, requirements=["one of the allowed values"], found=_describe(found),
                  allowed=allowed, hint=_did_you_mean(found, tags))


def _did_you_mean(value: Any, choices: Sequence[Any]) -> str | None:
    if not isinstance(value, str):
        return None
    by_text = {str(choice): choice for choice in choices}
    close = difflib.get_close_matches(value, list(by_text), n=1, cutoff=0.6)
    if not close:
        lowered = {text.lower(): text for text in by_text}
        close = [lowered[value.lower()]] if value.lower() in lowered else []
    return f"did you mean {by_text[close[0]]!r}?" if close else None


def _misspelt_key_hint(name: str, walk: _Walk) -> str | None:
    """For a missing field, point at a written key that looks like a misspelling of it."""
    if not isinstance(walk.parent, dict):
        return None
    allowed = set(_field_names(walk.container))
    unknown = [str(key) for key in walk.parent if key not in allowed]
    close = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
    return f"'{close[0]}' is written here: should it be '{name}'?" if close else None


def _describe(value: Any) -> str | None:
    """The value found, short enough for one line."""
    if value is _ABSENT:
        return None
    if isinstance(value, dict):
        return "a section"
    if isinstance(value, list):
        return "a list"
    if value is None:
        return "an empty value"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value.isoformat() if hasattr(value, "isoformat") else repr(value)
    return text if len(text) <= 60 else f"{text[:57]}…"


# --- values copied from spreadsheets --------------------------------------------------------


def date_hint(text: str) -> str | None:
    """How to write a day/month/year date (as UK spreadsheets show them) as YYYY-MM-DD."""
    match = re.fullmatch(r"\s*(\d{1,2})[/.-](\d{1,2})[/.-](\d{4})\s*", text)
    if match is None:
        return None
    day, month, year = (int(part) for part in match.groups())
    written = f"{year:04d}-{month:02d}-{day:02d}"
    return f"write {written} (year-month-day; {text.strip()} is read as day/month/year)"


_ODD_SPACES = "\u00a0\u202f\u2007\u2009"
_CURRENCIES = "£$€"


def spreadsheet_hint(text: str) -> str | None:
    """How to write a number that was copied from a spreadsheet, or None if it is not one."""
    reasons = []
    if any(space in text for space in _ODD_SPACES):
        reasons.append("no spaces: this one has a non-breaking space, often copied from Excel")
    elif " " in text.strip():
        reasons.append("no spaces")
    core = re.sub(f"[\\s{_ODD_SPACES}]", "", text)
    if "−" in core:
        reasons.append("an ordinary minus sign")
        core = core.replace("−", "-")
    if re.search(f"[{_CURRENCIES}]", core):
        reasons.append("no currency symbol")
        core = re.sub(f"[{_CURRENCIES}]", "", core)
    percent = core.endswith("%")
    core = core.removesuffix("%")
    if re.fullmatch(r"[-+]?\d{1,3}(,\d{3})+(\.\d+)?", core):
        reasons.append("no thousands separators")
        core = core.replace(",", "")
    elif re.fullmatch(r"[-+]?\d+,\d+", core):
        reasons.append("a dot for decimals")
        core = core.replace(",", ".")
    try:
        number = float(core)
    except ValueError:
        return None
    if percent:
        fraction = _number_text(round(number / 100, 12))
        return f"write {fraction} for {_number_text(number)} %"
    if not reasons:
        return None
    return f"write {core.lstrip('+')} ({', '.join(reasons)})"
