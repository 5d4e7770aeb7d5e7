"""Data migration: a cooperative's old records brought in from spreadsheets and exports (P3)."""
