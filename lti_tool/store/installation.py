"""This installation's identity: the namespace its xAPI statement ids are made in.

One row, written by the migration that creates the table (with a random UUID), and never
changed afterwards: a restore of the database keeps it, so re-sent events keep their
statement ids, while a new installation gets its own, so its ids never collide with
another's in a shared LRS (see the recipe in ``xapi.statements``).

The namespace is read once per process and engine, then served from memory, so recording
a statement costs no extra query.
"""

from __future__ import annotations

import threading
import uuid
from datetime import datetime
from weakref import WeakKeyDictionary

from sqlalchemy import CheckConstraint, Engine, Integer, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.errors import ConfigError
from lti_tool.store.models import Base, UTCDateTime, utcnow


class Installation(Base):
    """The single row naming this installation's statement-id namespace."""

    __tablename__ = "installation"
    __table_args__ = (
        # Exactly one row: a second namespace would split one installation's ids in two.
        CheckConstraint("id = 1", name="single_row"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True, default=1)
    statement_namespace: Mapped[uuid.UUID] = mapped_column()
    created_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


_namespaces: WeakKeyDictionary[Engine, uuid.UUID] = WeakKeyDictionary()
_lock = threading.Lock()


def require_statement_namespace(session: Session) -> uuid.UUID:
    """The installation's namespace, read from the database (one query).

    Raises ``ConfigError`` when the row is missing: the schema was not made by Alembic.
    """
    namespace = session.scalar(select(Installation.statement_namespace).where(Installation.id == 1))
    if namespace is None:
        raise ConfigError("the database has no installation row: run `cxa db upgrade` to create it")
    return namespace


def statement_namespace(session: Session) -> uuid.UUID:
    """The installation's namespace, read at the first call per engine and then cached.

    It never changes once written, so the cache cannot go stale while the process runs.
    """
    bind = session.get_bind()
    engine = bind if isinstance(bind, Engine) else bind.engine
    namespace = _namespaces.get(engine)
    if namespace is None:
        namespace = require_statement_namespace(session)
        with _lock:
            _namespaces[engine] = namespace
    return namespace
