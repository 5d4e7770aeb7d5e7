"""Staff web shell, public pages, templates and static assets (the field PWA joins here)."""
