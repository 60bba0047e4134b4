"""Celery workers: thin tasks over plain functions (statement delivery, grades, goal progress)."""
