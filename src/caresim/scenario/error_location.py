"""Following a pydantic error's location through the model and the data: which field, which union branch."""

import re
import types
import typing
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Annotated, Any, Literal, Union

from pydantic import BaseModel, RootModel
from pydantic_core import ErrorDetails

from caresim.scenario.yaml_source import FieldPath

# --- following a pydantic error location through the model and the data ---------------------

ABSENT = object()


@dataclass(frozen=True)
class Walk:
    """Where a pydantic error points, with union labels removed."""

    path: FieldPath
    value: Any
    parent: Any
    annotation: Any
    container: Any
    branches: tuple[tuple[FieldPath, Any], ...]
    in_key: bool


def walk_error(model: type[BaseModel], data: Any, error: ErrorDetails) -> Walk:
    annotation: Any = model
    container: Any = None
    value: Any = data
    parent: Any = ABSENT
    path: list[Any] = []
    branches: list[tuple[FieldPath, Any]] = []
    in_key = False
    loc = error["loc"]
    for position, element in enumerate(loc):
        annotation = unwrap(annotation)
        members = union_members(annotation)
        if members:
            branches.append((tuple(path), element))
            annotation = _member_for(element, members)
            continue
        if element == "[key]":
            in_key = True
            annotation = _key_annotation(container)
            continue
        names_key = position == len(loc) - 1 and error["type"] in {"missing", "extra_forbidden"}
        if annotation is None and not holds(value, element) and not names_key:
            continue
        container, parent = annotation, value
        annotation = _child_annotation(annotation, element)
        if isinstance(value, dict) and element in value:  # the key as written: True, not pydantic's 1
            element = next(key for key in value if key == element)
        value = value[element] if holds(value, element) else ABSENT
        path.append(element)
    return Walk(tuple(path), value, parent, annotation, container, tuple(branches), in_key)


def holds(value: Any, element: Any) -> bool:
    if isinstance(value, dict):
        return element in value
    if isinstance(value, list):
        return isinstance(element, int) and 0 <= element < len(value)
    return False


def unwrap(annotation: Any) -> Any:
    """Strip `Annotated`, `Optional` and root models down to the type that matters."""
    while True:
        origin = typing.get_origin(annotation)
        if origin is Annotated:
            annotation = typing.get_args(annotation)[0]
        elif origin in (Union, types.UnionType) and len(union_members(annotation) or ()) == 1:
            annotation = union_members(annotation)[0]
        elif is_model(annotation) and issubclass(annotation, RootModel):
            annotation = annotation.model_fields["root"].annotation
        else:
            return annotation


def union_members(annotation: Any) -> list[Any] | None:
    if typing.get_origin(annotation) not in (Union, types.UnionType):
        return None
    return [member for member in typing.get_args(annotation) if member is not type(None)]


def is_model(annotation: Any) -> bool:
    return isinstance(annotation, type) and issubclass(annotation, BaseModel)


def _member_for(label: Any, members: list[Any]) -> Any:
    """The union member a pydantic label (a type name or a discriminator value) stands for."""
    name = str(label)
    wrapped = re.fullmatch(r"function-\w+\[.*, (\w+)\]", name)
    name = (wrapped.group(1) if wrapped else name).removeprefix("constrained-")
    shared = _shared_literal_fields(members)
    for member in members:
        base = unwrap(member)
        if typing.get_origin(base) is Literal:
            label_name = f"literal[{','.join(repr(value) for value in typing.get_args(base))}]"
        elif is_model(base) and any(label in tag_values(base, field) for field in shared):
            label_name = name
        else:
            label_name = getattr(base, "__name__", None)
        if label_name == name:
            return member
    return None


def _shared_literal_fields(members: list[Any]) -> set[str]:
    """Names of `Literal` fields every model member has: the candidates for a discriminator."""
    models = [base for base in map(unwrap, members) if is_model(base)]
    fields = [{name for name in model.model_fields if tag_values(model, name)} for model in models]
    return set.intersection(*fields) if fields else set()


def tag_values(model: type[BaseModel], field_name: str) -> list[Any]:
    """The values a model's `Literal` field allows: its tags in a discriminated union."""
    info = _model_field(model, field_name)
    literal = unwrap(info.annotation) if info is not None else None
    return list(typing.get_args(literal)) if typing.get_origin(literal) is Literal else []


def _model_field(model: type[BaseModel], element: Any) -> Any:
    for name, info in model.model_fields.items():
        if element in (name, info.alias):
            return info
    return None


def _child_annotation(annotation: Any, element: Any) -> Any:
    if is_model(annotation):
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


def field_names(annotation: Any) -> list[str]:
    """Field names allowed in a section of this type (all members' fields for a union)."""
    annotation = unwrap(annotation)
    if is_model(annotation):
        return [info.alias or name for name, info in annotation.model_fields.items()]
    names: dict[str, None] = {}
    for member in union_members(annotation) or ():
        names.update(dict.fromkeys(field_names(member)))
    return list(names)


def best_branches(walked: list[tuple[ErrorDetails, Walk]]) -> list[tuple[ErrorDetails, Walk]]:
    """Keep, for each union, only the branch that best fits the data.

    A branch "fits" when its errors reach inside the value (the value had that branch's shape);
    among fitting branches the one with the fewest errors wins, deepest unions first. When no
    branch fits, every branch is kept so their requirements can be listed together
    ("a whole number or 'unlimited'").
    """
    points = sorted({point for _, walk in walked for point, _ in walk.branches}, key=len, reverse=True)
    for point in points:
        by_branch: dict[Any, list[Walk]] = {}
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
