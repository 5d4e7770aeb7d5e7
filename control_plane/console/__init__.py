"""The vendor operations console (P6): vendor staff look after every cooperative from here.

Who may use it
--------------
A person in the **public schema's** user table with an active ``ConsoleOperator`` profile, who
has passed a TOTP second factor in this session. We chose a profile table over ``is_staff``:

- ``identity.User`` (and with it ``is_staff``) exists in every workspace schema as well, so a flag
  on it means something in places the console never looks; the ``console_consoleoperator`` table
  exists only in the public schema (this app is in SHARED_APPS only), so a workspace's staff user
  cannot be an operator, whatever its columns say;
- the profile carries what only operators have (who created them, when they were deactivated)
  without widening the user table of every workspace;
- ``is_staff`` keeps its Django meaning (the admin site) and grants nothing here.

How a request gets in (``auth.console_operator_required``)
-----------------------------------------------------------
The console is routed only on the bare domain (``urls_public``); every view still checks that the
connection is in the public schema, that the user is an active operator, and that the session's
OTP device (``django_otp.DEVICE_ID_SESSION_KEY``) is a confirmed device of that user. django-otp's
``OTPMiddleware`` is deliberately not installed: a workspace request must never read the OTP
tables, which exist only in the public schema.

Layout: ``auth`` (log-in state, the decorator), ``forms``, ``selectors`` (reads: the tenant list,
schema versions in one query, usage, billing, backups, fleet runs, history), ``services`` (writes:
operators, devices, lifecycle, provisioning, and the operator's side of plan changes, one-time
charges, backups, restores and fleet migrations), ``export`` (a tenant's data as a zip of CSV
files, streamed), ``views``, ``urls``.
"""
