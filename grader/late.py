"""Late submissions: when a submission was handed in, how late it is, and the points it loses.

The time comes from nbgrader's ``timestamp.txt`` beside the notebook (what ``nbgrader collect``
and the exchange write), or, for a zip downloaded from an LMS, from the time of the notebook's
entry in the zip. The lesson's due date and the course's late policy come from course.yml. The
penalty is what nbgrader calls ``late_submission_penalty``: points taken from the raw score, never
more than the raw score.
"""

from __future__ import annotations

import math
import re
import struct
import zipfile
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import dateutil.parser

from grader.manifest import Course, LatePolicy
from grader.results import Result

DAY = 24 * 3600
NBGRADER_FORMAT = "%Y-%m-%d %H:%M:%S.%f UTC"  # what nbgrader writes in timestamp.txt
_EXTENDED_TIME = 0x5455  # the zip extra field that holds a UTC modification time (Info-ZIP)


@dataclass(frozen=True)
class Lateness:
    """How one submission stands against its due date."""

    due: datetime | None = None
    submitted: datetime | None = None
    seconds_late: float = 0.0  # after the due date (0 when on time, or when either time is unknown)
    days: int = 0  # late days begun, counted from the due date, once past the grace period
    penalty: float = 0.0  # points taken from the raw score

    @property
    def late(self) -> bool:
        """Handed in after the due date and its grace period."""
        return self.days > 0

    def describe(self) -> str:
        """One line for a person: how late, and what it cost."""
        if not self.late:
            return ""
        hours = self.seconds_late / 3600
        span = f"{hours:.1f} hours" if hours < 48 else f"{hours / 24:.1f} days"
        cost = f"{self.penalty:g} points taken" if self.penalty else "no points taken"
        return f"handed in {span} after the due date ({self.days} late day(s) begun): {cost}"


def parse_time(text: object) -> datetime | None:
    """A submission time as an aware UTC datetime, from nbgrader's timestamp text; None if unreadable.

    nbgrader writes ``2025-10-06 21:14:03.123456 UTC``; ISO times with an offset are read too, and a
    time without a zone is taken as UTC, as nbgrader takes it.
    """
    from nbgrader.utils import parse_utc

    if isinstance(text, datetime):
        moment = text
    elif isinstance(text, str) and text.strip():
        text = text.strip()
        try:
            if re.search(r"\s[+-]\d{2}:?\d{2}$", text):  # a numeric offset, which parse_utc reads as seconds
                moment = dateutil.parser.parse(text)
            else:
                moment = parse_utc(text)
        except (ValueError, OverflowError, TypeError):
            return None
    else:
        return None
    if moment.tzinfo is not None:
        return moment.astimezone(UTC)
    return moment.replace(tzinfo=UTC)


def format_time(moment: datetime) -> str:
    """A time in nbgrader's timestamp.txt format (UTC)."""
    return moment.astimezone(UTC).strftime(NBGRADER_FORMAT)


def penalty(
    policy: LatePolicy | None, seconds_late: float, raw: float, max_score: float
) -> tuple[int, float]:
    """(late days begun, points taken) for a submission ``seconds_late`` after its due date."""
    if seconds_late <= 0:
        return 0, 0.0
    grace = policy.grace_minutes * 60 if policy else 0.0
    if seconds_late <= grace:
        return 0, 0.0
    days = math.ceil(seconds_late / DAY)
    if policy is None:
        return days, 0.0
    share = min(policy.max_share, days * policy.per_day)
    return days, round(min(max(raw, 0.0), share * max_score), 6)


def assess(course: Course, result: Result) -> Lateness:
    """How late ``result`` was handed in, and its penalty under the course's policy."""
    lesson = course.by_id.get(result.lesson)
    due = lesson.due if lesson else None
    submitted = parse_time(result.timestamp)
    if due is None or submitted is None:
        return Lateness(due, submitted)
    seconds = (submitted - due).total_seconds()
    days, points = penalty(course.late_policy, seconds, result.score, result.max_score)
    return Lateness(due, submitted, max(seconds, 0.0), days, points)


def _extended_time(extra: bytes) -> datetime | None:
    """The UTC modification time in a zip entry's extended-timestamp field, if it has one."""
    at = 0
    while at + 4 <= len(extra):
        kind, size = struct.unpack_from("<HH", extra, at)
        body = extra[at + 4 : at + 4 + size]
        if kind == _EXTENDED_TIME and len(body) >= 5 and body[0] & 1:
            return datetime.fromtimestamp(struct.unpack_from("<I", body, 1)[0], UTC)
        at += 4 + size
    return None


def zip_times(archive: Path) -> dict[str, datetime]:
    """Each file entry of a zip and its time: the extended UTC time where present, else its DOS time.

    A DOS time carries no time zone; it is read as UTC (LMS servers write their zips in UTC).
    """
    times = {}
    with zipfile.ZipFile(archive) as zf:
        for info in zf.infolist():
            if info.is_dir():
                continue
            moment = _extended_time(info.extra)
            if moment is None:
                try:
                    moment = datetime(*info.date_time, tzinfo=UTC)
                except ValueError:
                    continue
            times[info.filename] = moment
    return times


def zip_entry_time(times: dict[str, datetime], unpacked: Path) -> datetime | None:
    """The time of the zip entry that was unpacked as ``unpacked``: the entry whose path ends its path."""
    parts = unpacked.parts
    best: tuple[int, datetime] | None = None
    for name, moment in times.items():
        entry = Path(name).parts
        if entry and tuple(parts[-len(entry) :]) == entry and (best is None or len(entry) > best[0]):
            best = (len(entry), moment)
    return best[1] if best else None


def fill_zip_times(source: Path, results: list[Result]) -> list[Result]:
    """Give results without a timestamp the time of their entry in the zip ``source``; return those."""
    if not source.is_file() or not zipfile.is_zipfile(source):
        return []
    times = zip_times(source)
    changed = []
    for result in results:
        if result.timestamp:
            continue
        moment = zip_entry_time(times, Path(result.source))
        if moment is not None:
            result.timestamp = format_time(moment)
            changed.append(result)
    return changed
