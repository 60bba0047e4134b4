"""Branding rows: an organisation name and accent colour per registration or deployment.

A row with ``deployment_id`` "" covers every deployment of its registration; a row for
one deployment overrides it field by field. Values are checked by lti_tool.branding
before they are stored. Query functions take a session, may flush, never commit.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Integer, String, UniqueConstraint, bindparam, select
from sqlalchemy.orm import Mapped, Session, mapped_column

from lti_tool.branding import Brand
from lti_tool.store.models import Base, UTCDateTime, utcnow

#: The deployment_id of a row that applies to every deployment of the registration. An
#: empty string rather than NULL, so the unique constraint holds for it too.
ALL_DEPLOYMENTS = ""


class Branding(Base):
    """What learners of one registration (or one of its deployments) see in the page header."""

    __tablename__ = "branding"
    # One row per registration-wide setting and per deployment; also the lookup index.
    __table_args__ = (UniqueConstraint("platform_id", "deployment_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    platform_id: Mapped[int] = mapped_column(ForeignKey("platform.id", ondelete="CASCADE"))
    deployment_id: Mapped[str] = mapped_column(String(255), default=ALL_DEPLOYMENTS)
    organisation: Mapped[str | None] = mapped_column(String(80), default=None)
    # "#rrggbb", checked for WCAG AA contrast when set.
    accent: Mapped[str | None] = mapped_column(String(7), default=None)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime(), default=utcnow)


def _row(session: Session, platform_id: int, deployment_id: str) -> Branding | None:
    return session.scalars(
        select(Branding).where(
            Branding.platform_id == platform_id, Branding.deployment_id == deployment_id
        )
    ).one_or_none()


def set_branding(
    session: Session,
    platform_id: int,
    deployment_id: str = ALL_DEPLOYMENTS,
    *,
    organisation: str | None = None,
    accent: str | None = None,
) -> Branding:
    """Set the given fields (None leaves a field as it is) for a registration or deployment."""
    row = _row(session, platform_id, deployment_id)
    if row is None:
        row = Branding(platform_id=platform_id, deployment_id=deployment_id)
        session.add(row)
    if organisation is not None:
        row.organisation = organisation
    if accent is not None:
        row.accent = accent
    row.updated_at = utcnow()
    session.flush()
    return row


def clear_branding(
    session: Session, platform_id: int, deployment_id: str = ALL_DEPLOYMENTS
) -> bool:
    """Back to the default for this registration or deployment; False if nothing was set."""
    row = _row(session, platform_id, deployment_id)
    if row is None:
        return False
    session.delete(row)
    session.flush()
    return True


def get_brand(session: Session, platform_id: int, deployment_id: str) -> Brand:
    """The branding a launch from this deployment shows: the deployment's own fields first,
    then the registration's."""
    rows = {
        row.deployment_id: row
        for row in session.scalars(
            _BRANDING,
            {"platform_id": platform_id, "deployment_ids": [deployment_id, ALL_DEPLOYMENTS]},
        )
    }
    own, shared = rows.get(deployment_id), rows.get(ALL_DEPLOYMENTS)

    def pick(field: str) -> str | None:
        for row in (own, shared):
            value = getattr(row, field) if row is not None else None
            if value is not None:
                return str(value)
        return None

    return Brand(organisation=pick("organisation"), accent=pick("accent"))


# Built once per process: every learner page reads the branding (issue 12).
_BRANDING = select(Branding).where(
    Branding.platform_id == bindparam("platform_id"),
    Branding.deployment_id.in_(bindparam("deployment_ids", expanding=True)),
)
