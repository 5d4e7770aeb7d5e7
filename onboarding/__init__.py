"""Online sign-up and data migration from a cooperative's old records (control plane, public schema)."""
