"""Building MicroPython distributions: project reading, R.py resources, sdists."""
