"""The course manifest, ``course.yml``: loaded and validated with pydantic."""

from __future__ import annotations

from datetime import datetime
from functools import cached_property
from pathlib import Path

import yaml
from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from grader.errors import CourseError

MANIFEST = "course.yml"


class ManifestError(CourseError):
    """A manifest that cannot be used; the message is one paragraph for a person."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class Runtime(_Strict):
    """The pinned runtime the lessons are written and tested for."""

    python: str
    tensorflow: str
    keras: str


class Lesson(_Strict):
    """One lesson: a solution notebook and the student notebook built from it."""

    id: str = Field(pattern=r"^\d\d_[a-z0-9]+(_[a-z0-9]+)*$")
    title: str = Field(min_length=1)
    objectives: list[str] = Field(min_length=1)
    points: dict[str, float] = Field(default_factory=dict)
    # A secret answer key the grader reads (a file in solutions/<id>/, such as "bank.yml"); never released.
    key: str | None = Field(default=None, pattern=r"^[\w.-]+\.(yml|yaml|json)$")
    # When the lesson is due (an ISO date and time with its UTC offset); None: never late.
    due: datetime | None = None

    @field_validator("due")
    @classmethod
    def _aware(cls, due: datetime | None) -> datetime | None:
        if due is not None and due.utcoffset() is None:
            raise ValueError("a due date needs its UTC offset, e.g. 2025-10-06T23:59:00+02:00")
        return due

    @field_validator("points")
    @classmethod
    def _positive(cls, points: dict[str, float]) -> dict[str, float]:
        bad = [name for name, value in points.items() if value <= 0]
        if bad:
            raise ValueError(f"points must be positive (see {', '.join(bad)})")
        return points

    @property
    def notebook(self) -> str:
        """Path of the notebook, relative to solutions/ or notebooks/."""
        return f"{self.id}/{self.id}.ipynb"


class LatePolicy(_Strict):
    """How late submissions lose points: a share of the lesson's points per late day begun."""

    grace_minutes: float = Field(default=0, ge=0, le=7 * 24 * 60)  # late by less: not late at all
    per_day: float = Field(gt=0, le=1)  # share of the lesson's points taken for each late day begun
    max_share: float = Field(default=1.0, gt=0, le=1)  # at most this share of the points is taken


class Course(_Strict):
    """The whole course, in the order students take it."""

    title: str = Field(min_length=1)
    repository: str = Field(pattern=r"^[\w.-]+/[\w.-]+$")
    branch: str = Field(min_length=1)
    runtime: Runtime
    seed: int
    lessons: list[Lesson] = Field(min_length=1)
    # Penalties for lessons handed in after their due date; None: lateness is shown, never penalised.
    late_policy: LatePolicy | None = None

    @field_validator("lessons")
    @classmethod
    def _unique(cls, lessons: list[Lesson]) -> list[Lesson]:
        ids = [lesson.id for lesson in lessons]
        duplicates = sorted({i for i in ids if ids.count(i) > 1})
        if duplicates:
            raise ValueError(f"lesson ids must be unique (repeated: {', '.join(duplicates)})")
        return lessons

    @cached_property
    def by_id(self) -> dict[str, Lesson]:
        """Lessons keyed by id."""
        return {lesson.id: lesson for lesson in self.lessons}

    def lesson(self, lesson_id: str) -> Lesson:
        """The lesson with this id, or a ManifestError that lists the known ids."""
        try:
            return self.by_id[lesson_id]
        except KeyError:
            known = ", ".join(self.by_id)
            raise ManifestError(f"No lesson {lesson_id!r} in {MANIFEST}; known: {known}.") from None

    def next_lesson(self, lesson_id: str) -> Lesson | None:
        """The lesson after this one, or None for the last."""
        ids = [lesson.id for lesson in self.lessons]  # not by_id: a model_copy keeps the old cache
        position = ids.index(lesson_id) + 1
        return self.lessons[position] if position < len(ids) else None

    def colab_url(self, lesson: Lesson) -> str:
        """The "Open in Colab" address of a lesson's student notebook."""
        return (
            f"https://colab.research.google.com/github/{self.repository}/blob/"
            f"{self.branch}/notebooks/{lesson.notebook}"
        )

    def install_spec(self) -> str:
        """What ``pip install`` needs to fetch the course package from its repository."""
        return f"git+https://github.com/{self.repository}@{self.branch}"


def find_root(start: Path | None = None) -> Path:
    """The nearest folder at or above ``start`` that holds the manifest."""
    here = (start or Path.cwd()).resolve()
    for folder in (here, *here.parents):
        if (folder / MANIFEST).is_file():
            return folder
    raise ManifestError(f"No {MANIFEST} in {here} or any folder above it; run from the course.")


def _describe(error: ValidationError) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "(top level)"
        problems.append(f"field '{field}': {item['msg']}")
    return "; ".join(problems)


def load_course(root: Path | None = None) -> Course:
    """Read and validate the manifest in ``root`` (default: found from the current folder)."""
    path = (root or find_root()) / MANIFEST
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ManifestError(f"Cannot read {path}: {error.strerror}.") from None
    except yaml.YAMLError as error:
        raise ManifestError(f"{path} is not valid YAML: {error}.") from None
    if not isinstance(data, dict):
        raise ManifestError(f"{path} must be a mapping of fields (title, lessons, ...).")
    try:
        return Course.model_validate(data)
    except ValidationError as error:
        raise ManifestError(f"{path} is not a valid course manifest: {_describe(error)}.") from None
