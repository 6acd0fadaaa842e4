"""What data exists: platform sources, the zone engine, the conformed model, analytics."""
