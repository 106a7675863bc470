"""One validation error rewritten for people: what was found, what is allowed, and a hint towards the fix."""

import difflib
import re
import typing
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date
from enum import Enum
from typing import Any, Literal

from pydantic_core import ErrorDetails

from caresim.scenario.error_location import (
    ABSENT,
    Walk,
    field_names,
    holds,
    is_model,
    tag_values,
    union_members,
    unwrap,
)
from caresim.scenario.problems import FieldError
from caresim.scenario.yaml_source import FieldPath

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


def joined_drafts(drafts: list[_Draft]) -> list[_Draft]:
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


def problem_draft(error: ErrorDetails, walk: Walk) -> _Draft:
    kind = error["type"]
    context = error.get("ctx", {})
    value = error.get("input") if walk.value is ABSENT or walk.in_key else walk.value
    name = walk.path[-1] if walk.path else None
    if walk.in_key:
        return _key_draft(kind, context, walk)
    if kind == "invalid_key":
        return _Draft(walk.path, True, f"the name {name!r} must be text", hint="put it in quotes to make it text")
    if kind == "missing":
        return _Draft(walk.path, True, f"required field '{name}' is missing",
                      hint=_misspelt_key_hint(str(name), walk))
    if kind == "extra_forbidden":
        names = field_names(walk.container)
        return _Draft(walk.path, True, f"unknown field '{name}'",
                      allowed=", ".join(names) or None, hint=_did_you_mean(name, names))
    if kind in {"union_tag_invalid", "union_tag_not_found"}:
        return _tag_draft(kind, context, walk)
    if kind in {"value_error", "assertion_error"}:
        return _validator_draft(error, walk, value)
    draft = _Draft(walk.path, found=describe_value(value))
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


def _validator_draft(error: ErrorDetails, walk: Walk, value: Any) -> _Draft:
    """A model validator's message, placed at the field a `FieldError` names inside the model."""
    cause = error.get("ctx", {}).get("error")
    message = str(cause) if cause is not None else error["msg"]
    if not isinstance(cause, FieldError):
        container = isinstance(value, (dict, list))
        return _Draft(walk.path, container, message, found=None if container else describe_value(value))
    for element in cause.path:
        value = value[element] if holds(value, element) else ABSENT
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
    base = unwrap(annotation)
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
    base = unwrap(annotation)
    if typing.get_origin(base) is Literal:
        return list(typing.get_args(base))
    if isinstance(base, type) and issubclass(base, Enum):
        return [member.value for member in base]
    return []


def _key_draft(kind: str, context: dict[str, Any], walk: Walk) -> _Draft:
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


def _tag_draft(kind: str, context: dict[str, Any], walk: Walk) -> _Draft:
    discriminator = str(context.get("discriminator", "")).strip("'")
    is_field = discriminator.isidentifier()
    path = (*walk.path, discriminator) if is_field else walk.path
    tags = [tag for member in union_members(unwrap(walk.annotation)) or ()
            if is_model(unwrap(member)) for tag in tag_values(unwrap(member), discriminator)]
    allowed = ", ".join(repr(tag) for tag in tags) or context.get("expected_tags")
    if kind == "union_tag_not_found":
        if not is_field:
            return _Draft(path, True, "the kind of entry cannot be told", allowed=allowed)
        return _Draft(path, True, f"required field '{discriminator}' is missing", allowed=allowed)
    found = context.get("tag")
    return _Draft(path, requirements=["one of the allowed values"], found=describe_value(found),
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


def _misspelt_key_hint(name: str, walk: Walk) -> str | None:
    """For a missing field, point at a written key that looks like a misspelling of it."""
    if not isinstance(walk.parent, dict):
        return None
    allowed = set(field_names(walk.container))
    unknown = [str(key) for key in walk.parent if key not in allowed]
    close = difflib.get_close_matches(name, unknown, n=1, cutoff=0.6)
    return f"'{close[0]}' is written here: should it be '{name}'?" if close else None


def describe_value(value: Any) -> str | None:
    """The value found, short enough for one line."""
    if value is ABSENT:
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
