"""Problems found in a scenario file, written for the people who edit it."""

from collections.abc import Sequence
from dataclasses import dataclass


class FieldError(ValueError):
    """Raised by a model validator about a field inside the model: `path` leads there from the model.

    `choices` are the values allowed there (shown, with a "did you mean" for a near miss).
    """

    def __init__(self, message: str, *path: str | int, choices: Sequence[str] = ()) -> None:
        super().__init__(message)
        self.path = path
        self.choices = tuple(choices)


@dataclass(frozen=True)
class Problem:
    """One thing wrong in a scenario file, with where it is and how to fix it."""

    file: str
    line: int | None
    column: int | None
    path: str
    message: str
    found: str | None = None
    allowed: str | None = None
    hint: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f":{self.line}"
            if self.column is not None:
                where += f":{self.column}"
        heading = f"{where}: {self.path}: " if self.path else f"{where}: "
        heading += self.message
        if self.found is not None:
            heading += f" (found {self.found})"
        lines = [heading]
        if self.allowed is not None:
            lines.append(f"    allowed: {self.allowed}")
        if self.hint is not None:
            lines.append(f"    hint: {self.hint}")
        return "\n".join(lines)

    def sort_key(self) -> tuple[str, int, int, str, str]:
        """Order by file, then line and column, then field path."""
        return (self.file, self.line or 0, self.column or 0, self.path, self.message)


class ScenarioError(Exception):
    """Every problem found in a scenario, raised together so they can be fixed in one go."""

    def __init__(self, problems: list[Problem]) -> None:
        self.problems = sorted(dict.fromkeys(problems), key=Problem.sort_key)
        super().__init__(self.problems)

    def __str__(self) -> str:
        files = list(dict.fromkeys(problem.file for problem in self.problems))
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        header = f"{count} {noun} in {', '.join(files)}:"
        return "\n".join([header, *(str(problem) for problem in self.problems)])
