"""SMS and e-mail outbox, providers, templates per language, delivery callbacks, reminders (per workspace)."""
