"""User-facing errors: a short message that names the problem and the fix."""

from __future__ import annotations


class UserError(Exception):
    """A problem the user can fix (bad input, bad config, unreachable service).

    Steps catch it and print ``problem`` and ``fix`` without a traceback.
    """

    def __init__(self, problem: str, fix: str) -> None:
        super().__init__(f"{problem}\n  Fix: {fix}")
        self.problem = problem
        self.fix = fix
