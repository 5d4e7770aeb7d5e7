"""Messages for translation, without Django.

The engine's messages are English templates that the Django layer passes through ``gettext``
(``ImportSettings.translate``). Wrapping each literal in ``gettext_noop`` changes nothing at run
time but lets ``manage.py makemessages`` find it: that name is one of the keywords it extracts.
"""

from __future__ import annotations


def gettext_noop(message: str) -> str:
    return message
