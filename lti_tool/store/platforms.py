"""Queries for platform registrations and their deployments. Flush, never commit."""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import urlsplit

from sqlalchemy import Select, bindparam, select
from sqlalchemy.orm import Session, joinedload, selectinload

from lti_tool.egress import EgressPolicy
from lti_tool.errors import RegistrationError
from lti_tool.store.models import Deployment, Platform
from xapi.events import ActorFormat


@dataclass(frozen=True)
class PlatformSpec:
    """What an administrator gives us to register a platform; validated before it is stored."""

    name: str
    issuer: str
    client_id: str
    auth_login_url: str
    auth_token_url: str
    key_set_url: str
    deployment_ids: tuple[str, ...] = ()
    auth_audience: str | None = None
    actor_format: str = "account"
    actor_name: str = "omit"

    def problems(self, egress: EgressPolicy | None = None) -> list[str]:
        """Every reason this spec cannot be stored, in plain words.

        With an egress policy, URLs the tool fetches that point (or resolve) at addresses it
        refuses are problems too: the tool would fetch them from inside its own network.
        """
        found = []
        if not self.name.strip():
            found.append("name must not be empty")
        if not self.client_id.strip():
            found.append("client_id must not be empty")
        # LTI 1.3 (section 5.1.2) wants the issuer to be an https URL; loopback http is kept
        # for the demo LMS and local testing.
        for field_name in ("issuer", "auth_login_url", "auth_token_url", "key_set_url"):
            problem = _url_problem(getattr(self, field_name))
            if problem is None and egress is not None and field_name in FETCHED_URLS:
                problem = egress.registration_problem(getattr(self, field_name))
            if problem:
                found.append(f"{field_name} {problem}")
        if self.actor_format not in ACTOR_FORMATS:
            found.append(f"actor_format must be one of {', '.join(ACTOR_FORMATS)}")
        if self.actor_name not in ACTOR_NAME_CHOICES:
            found.append(f"actor_name must be one of {', '.join(ACTOR_NAME_CHOICES)}")
        if self.auth_audience is not None and not self.auth_audience.strip():
            found.append("auth_audience must not be empty when given")
        for deployment_id in self.deployment_ids:
            if not deployment_id.strip() or len(deployment_id) > 255:
                found.append(f"deployment id {deployment_id!r} must be 1 to 255 characters")
        return found


#: The registration's URLs the tool itself requests (the others are only identifiers or
#: where browsers are sent), so the ones the egress policy applies to.
FETCHED_URLS = ("auth_token_url", "key_set_url")

#: How learners may be identified in xAPI statements (xAPI 1.0.3 Part Two, 2.4.2.3).
ACTOR_FORMATS = tuple(f.value for f in ActorFormat)


def set_actor_format(session: Session, platform: Platform, actor_format: str) -> None:
    if actor_format not in ACTOR_FORMATS:
        raise RegistrationError(f"actor_format must be one of {', '.join(ACTOR_FORMATS)}")
    platform.actor_format = actor_format
    session.flush()


ACTOR_NAME_CHOICES = ("include", "omit")


def set_actor_name(session: Session, platform: Platform, choice: str) -> None:
    """Whether this platform's statements carry learners' names from now on."""
    if choice not in ACTOR_NAME_CHOICES:
        raise RegistrationError(f"actor name must be one of {', '.join(ACTOR_NAME_CHOICES)}")
    platform.actor_name = choice
    session.flush()


def _url_problem(value: str) -> str | None:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.netloc:
        return f"must be an absolute http(s) URL, got {value!r}"
    if parts.scheme == "http" and parts.hostname not in ("127.0.0.1", "localhost", "::1"):
        return f"must use https (http is allowed on loopback only), got {value!r}"
    return None


def add_platform(
    session: Session, spec: PlatformSpec, *, egress: EgressPolicy | None = None
) -> Platform:
    """Register a platform; RegistrationError if the spec is invalid or already registered.

    Registrations from operators or platforms pass the deployment's egress policy; only the
    embedded demo LMS, on loopback by design, registers without one.
    """
    problems = spec.problems(egress)
    if problems:
        raise RegistrationError("; ".join(problems))
    if get_platform(session, spec.issuer, spec.client_id) is not None:
        raise RegistrationError(
            f"issuer {spec.issuer} with client_id {spec.client_id} is already registered"
        )
    platform = Platform(
        name=spec.name.strip(),
        issuer=spec.issuer,
        client_id=spec.client_id,
        auth_login_url=spec.auth_login_url,
        auth_token_url=spec.auth_token_url,
        key_set_url=spec.key_set_url,
        auth_audience=spec.auth_audience,
        actor_format=spec.actor_format,
        actor_name=spec.actor_name,
        deployments=[Deployment(deployment_id=d) for d in dict.fromkeys(spec.deployment_ids)],
    )
    session.add(platform)
    session.flush()
    return platform


def add_deployment(session: Session, platform: Platform, deployment_id: str) -> Deployment:
    if not deployment_id.strip() or len(deployment_id) > 255:
        raise RegistrationError(f"deployment id {deployment_id!r} must be 1 to 255 characters")
    if any(d.deployment_id == deployment_id for d in platform.deployments):
        raise RegistrationError(f"deployment id {deployment_id} is already registered")
    deployment = Deployment(deployment_id=deployment_id)
    platform.deployments.append(deployment)
    session.flush()
    return deployment


def list_platforms(session: Session) -> list[Platform]:
    stmt = select(Platform).options(selectinload(Platform.deployments)).order_by(Platform.id)
    return list(session.scalars(stmt))


def get_platform(
    session: Session, issuer: str, client_id: str | None = None, *, with_deployments: bool = False
) -> Platform | None:
    """The registration for (issuer, client_id); with no client_id, the issuer's only one.

    ``with_deployments`` loads the deployments in the same statement (a launch checks them).
    """
    stmt = _PLATFORM[client_id is not None, with_deployments]
    found = list(session.scalars(stmt, {"issuer": issuer, "client_id": client_id}).unique())
    return found[0] if len(found) == 1 else None


def _platform_select(by_client_id: bool, with_deployments: bool) -> Select[Platform]:
    stmt = select(Platform).where(Platform.issuer == bindparam("issuer"))
    if by_client_id:
        stmt = stmt.where(Platform.client_id == bindparam("client_id"))
    stmt = stmt.limit(2)
    if with_deployments:
        # A join in one round trip; the LIMIT applies to platforms (SQLAlchemy wraps it).
        stmt = stmt.options(joinedload(Platform.deployments))
    return stmt


# Built once per process: every login and launch looks its platform up (issue 12).
_PLATFORM = {
    (by_client_id, with_deployments): _platform_select(by_client_id, with_deployments)
    for by_client_id in (False, True)
    for with_deployments in (False, True)
}


def get_platform_by_id(session: Session, platform_id: int) -> Platform | None:
    return session.get(Platform, platform_id)


def require_platform_by_id(session: Session, platform_id: int) -> Platform:
    platform = get_platform_by_id(session, platform_id)
    if platform is None:
        raise RegistrationError(f"no platform with id {platform_id}")
    return platform


def remove_platform(session: Session, platform_id: int) -> None:
    session.delete(require_platform_by_id(session, platform_id))
    session.flush()
