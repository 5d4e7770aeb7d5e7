"""``python -m core_banking.lending.schedule``: terms as JSON on stdin, the schedule as JSON on stdout.

Bad JSON or bad terms: nothing on stdout, one line per problem on stderr (``field: message``), and
exit status 2.
"""

from __future__ import annotations

import json
import sys
from typing import Any, TextIO

from core_banking.lending.schedule.engine import schedule_generate, schedule_to_json
from core_banking.lending.schedule.terms import TermsError, terms_from_json

EXIT_BAD_TERMS = 2


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a number")


def main(stdin: TextIO | None = None, stdout: TextIO | None = None, stderr: TextIO | None = None) -> int:
    stdin, stdout, stderr = stdin or sys.stdin, stdout or sys.stdout, stderr or sys.stderr
    try:
        data = json.loads(stdin.read(), parse_constant=_refuse_constant)
    except ValueError as error:  # json.JSONDecodeError is a ValueError
        stderr.write(f"terms: not valid JSON ({error})\n")
        return EXIT_BAD_TERMS
    try:
        schedule = schedule_generate(terms_from_json(data))
    except TermsError as error:
        for field, messages in error.errors.items():
            for message in messages:
                stderr.write(f"{field}: {message}\n")
        return EXIT_BAD_TERMS
    json.dump(schedule_to_json(schedule), stdout, indent=2, ensure_ascii=False)
    stdout.write("\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
