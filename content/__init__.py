"""CX Academy curriculum as validated data.

A library: imports neither Flask, Celery, SQLAlchemy nor pylti1p3, and reads
nothing but its own files.
"""
