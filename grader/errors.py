"""The one base class of problems a user can fix: shown as a message, never as a traceback."""


class CourseError(Exception):
    """A problem with the user's input (manifest, submissions, lesson files)."""
