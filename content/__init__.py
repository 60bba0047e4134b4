"""CX Academy curriculum as validated data.

A library: imports neither Flask, Celery, SQLAlchemy nor pylti1p3, and reads
nothing but its own files.

Start with :func:`content.loader.load_catalog`, which returns a
:class:`content.catalog.Catalog` of typed items; :mod:`content.scoring` scores
responses, quizzes, scenarios and the self-assessment; :func:`content.ids.activity_iri`
names any item for xAPI. ``python -m content validate`` checks a content folder.
"""

from content.catalog import Catalog
from content.errors import ContentError, ContentInvalidError, ContentNotFoundError, ResponseError
from content.ids import DEFAULT_BASE_URL, activity_iri
from content.loader import load_catalog

__all__ = [
    "DEFAULT_BASE_URL",
    "Catalog",
    "ContentError",
    "ContentInvalidError",
    "ContentNotFoundError",
    "ResponseError",
    "activity_iri",
    "load_catalog",
]
