"""Field collection (F1–F4): devices registered to collectors, and the sync of what they record."""
