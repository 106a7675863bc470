"""Loading scenario files: `extends:`, `include:` and `evidence:` followed, then validated with errors for people.

`read_yaml` turns one file into plain data and a `SourceMap` (where every value came from),
`resolve` follows `extends:` and merges, `validate` turns pydantic errors into `Problem`s, and
`load_scenario` does all three. Every mistake is raised as one `ScenarioError` listing them all.
"""

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, TypeVar

from pydantic import BaseModel, ValidationError
from pydantic_core import ErrorDetails

from caresim.scenario.error_location import ABSENT, best_branches, walk_error
from caresim.scenario.explain import describe_value, joined_drafts, problem_draft
from caresim.scenario.problems import Problem, ScenarioError
from caresim.scenario.schemes import size_field
from caresim.scenario.yaml_source import FieldPath, SourceMap, read_yaml, render_path

if TYPE_CHECKING:
    from caresim.scenario.schema import Scenario




Model = TypeVar("Model", bound=BaseModel)


def resolve(path: Path) -> tuple[dict[str, Any], SourceMap]:
    """Read a scenario file and the files it `extends`, merged with the child winning, then the
    schemes of the library files it `include`s, the scenario's own schemes winning key by key.

    Included schemes join no mix by themselves: when any file is included and no `mix` is given,
    `mix` is set to the scenario's own schemes (those written in a scenario file, not a library).
    An `evidence:` ledger file is read, relative to the file that names it, into its entries, and
    each effect that names an entry and gives no size takes the entry's.
    """
    libraries: set[str] = set()
    data, source_map = _resolve(path, (), libraries)
    schemes = data.get("schemes")
    if libraries and "mix" not in data and isinstance(schemes, dict):
        data["mix"] = [name for name in schemes
                       if source_map.locate(("schemes", name), at_key=True).file not in libraries]
    return data, _sized_from_evidence(data, source_map)


def _resolve(path: Path, chain: tuple[Path, ...], libraries: set[str]) -> tuple[dict[str, Any], SourceMap]:
    data, source_map = read_yaml(path)
    chain = (*chain, path)
    own_map = source_map
    includes = data.pop("include", ABSENT)
    for section in ("evidence", "benchmarks"):  # files read into one section
        if isinstance(data.get(section), str):
            linked = _linked_file(path, data[section], own_map, (section,), chain)
            linked_data, linked_map = read_yaml(linked)
            data[section] = linked_data
            own_map = SourceMap.covering(data, [own_map, _moved(linked_map, (section,))])
            source_map = own_map
    if "extends" in data:
        parent = _linked_file(path, data.pop("extends"), own_map, ("extends",), chain)
        parent_data, parent_map = _resolve(parent, chain, libraries)
        data = _deep_merge(parent_data, data)
        source_map = SourceMap.covering(data, [own_map, parent_map])
    if includes is ABSENT:
        return data, source_map
    included, maps = _included_schemes(path, includes, own_map, chain, libraries)
    own = data.get("schemes") or {}
    if not isinstance(own, dict):
        return data, source_map
    merged = _deep_merge(included, own)
    data = {**data, "schemes": {name: merged[name] for name in dict.fromkeys([*own, *included])}}
    return data, SourceMap.covering(data, [source_map, *maps])


def _moved(source_map: SourceMap, prefix: FieldPath) -> SourceMap:
    """The same map with every path placed under `prefix` (a file read into one section of another)."""
    return SourceMap(source_map.file, {(*prefix, *path): where for path, where in source_map.keys.items()},
                     {(*prefix, *path): where for path, where in source_map.values.items()})


def _sized_from_evidence(data: dict[str, Any], source_map: SourceMap) -> SourceMap:
    """Each effect that names a ledger entry and gives no size of its own takes the entry's, written
    into `data`; the map points the size at the entry in the ledger (whose source comment is on its id line)."""
    ledger, schemes = data.get("evidence"), data.get("schemes")
    if not isinstance(schemes, dict):
        return source_map
    ledger = ledger if isinstance(ledger, dict) else {}
    places = {"value": "estimate", "low": "ci_low", "high": "ci_high", "distribution": "distribution"}
    for name, scheme in schemes.items():
        effects = scheme.get("effects") if isinstance(scheme, dict) else None
        for index, effect in enumerate(effects if isinstance(effects, list) else []):
            field = size_field(effect.get("kind")) if isinstance(effect, dict) else None
            reference = effect.get("evidence") if field else None
            if reference is None or field in effect:
                continue
            where = ("schemes", name, "effects", index)
            entry = ledger.get(reference) if isinstance(reference, str) else None
            if not isinstance(entry, dict):
                message = (f"names evidence {reference!r}, which the evidence ledger does not hold" if ledger else
                           "names evidence but the scenario names no evidence ledger")
                raise _link_error(source_map, (*where, "evidence"), f"{message}, and the effect gives no {field}",
                                  hint=f"add the entry, or give the effect its own {field} (an assumption)")
            effect[field] = {key: entry.get(column) for key, column in places.items()}
            written = {(): (), **{(key,): (column,) for key, column in places.items()}}
            for table in (source_map.values, source_map.keys):
                for inside, column in written.items():
                    if ("evidence", reference, *column) in table:
                        table[(*where, field, *inside)] = table[("evidence", reference, *column)]
    return source_map


def _included_schemes(path: Path, includes: Any, own_map: SourceMap, chain: tuple[Path, ...],
                      libraries: set[str]) -> tuple[dict[str, Any], list[SourceMap]]:
    """The schemes of every file `include` names (each file may hold only `schemes`), with their maps."""
    if isinstance(includes, str):
        includes, places = [includes], [("include",)]
    elif isinstance(includes, list):
        places = [("include", index) for index in range(len(includes))]
    else:
        raise _link_error(own_map, ("include",), "must be a list of library files", found=describe_value(includes),
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
        kind = {"include": "library", "evidence": "evidence ledger", "benchmarks": "benchmark"}.get(key, "scenario")
        raise _link_error(source_map, where, f"must be the name of another {kind} file",
                          found=describe_value(name), hint=f"for example: {key}: base.yaml")
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
    walked = [(error, walk_error(model, data, error)) for error in errors]
    drafts = [problem_draft(error, walk) for error, walk in best_branches(walked)]
    problems = []
    for draft in joined_drafts(drafts):
        location = source_map.locate(draft.path, at_key=draft.at_key)
        problems.append(Problem(
            location.file, location.line, location.column, render_path(draft.path),
            draft.message or f"must be {' or '.join(draft.requirements)}",
            draft.found, draft.allowed, draft.hint,
        ))
    return problems
