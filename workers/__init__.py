"""Celery workers: thin tasks over plain functions (delivery, and later grades and goals)."""
