"""The cooperative's workspace: everything here lives in the cooperative's own schema."""
