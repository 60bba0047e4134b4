"""xAPI statements for CX Academy and the one HTTP client that sends them.

A library: imports neither Flask, Celery, SQLAlchemy nor pylti1p3.
"""
