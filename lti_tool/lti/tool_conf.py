"""pylti1p3's tool configuration, read from our platform registrations in the database."""

from __future__ import annotations

from typing import Any

from pylti1p3.deployment import Deployment as LtiDeployment
from pylti1p3.registration import Registration
from pylti1p3.tool_config.abstract import ToolConfAbstract
from sqlalchemy.orm import Session

from lti_tool.store import platforms
from lti_tool.store.keys import SigningKey
from lti_tool.store.models import Platform


class DbToolConf(ToolConfAbstract[Any]):
    """Looks registrations up per request; one issuer may hold many client ids (multi-tenant)."""

    def __init__(
        self,
        session: Session,
        signing_key: SigningKey | None = None,
        *,
        with_deployments: bool = True,
    ) -> None:
        super().__init__()
        self._session = session
        self._signing_key = signing_key
        # Without deployments when the caller never checks one (the login): the join cost a
        # login about 0.2 ms of CPU (issue 12); a deployment asked for anyway is still read.
        self._with_deployments = with_deployments
        # pylti1p3 asks for the registration and the deployment separately and the launch
        # view needs the row again: one query per (issuer, client_id) per request (issue 12).
        self._platforms: dict[tuple[str, str | None], Platform | None] = {}

    def find_platform(self, iss: str, client_id: str | None = None) -> Platform | None:
        """The registration (deployments loaded with it unless the caller said it needs
        none), looked up once per request."""
        key = (iss, client_id)
        if key not in self._platforms:
            self._platforms[key] = platforms.get_platform(
                self._session, iss, client_id, with_deployments=self._with_deployments
            )
        return self._platforms[key]

    def check_iss_has_one_client(self, iss: str) -> bool:
        # Always look up by (issuer, client_id): the same LMS may register us more than once.
        return False

    def check_iss_has_many_clients(self, iss: str) -> bool:
        return True

    def find_registration_by_issuer(self, iss: str, *args: Any, **kwargs: Any) -> Registration:
        return self._registration(self.find_platform(iss))  # type: ignore[return-value]

    def find_registration_by_params(
        self, iss: str, client_id: str | None, *args: Any, **kwargs: Any
    ) -> Registration:
        # A login request may omit client_id (it is optional in LTI 1.3 section 4.1);
        # that only works while the issuer has a single registration.
        return self._registration(self.find_platform(iss, client_id))  # type: ignore[return-value]

    def find_deployment(self, iss: str, deployment_id: str) -> LtiDeployment | None:
        return self._deployment(self.find_platform(iss), deployment_id)

    def find_deployment_by_params(
        self, iss: str, deployment_id: str, client_id: str, *args: Any, **kwargs: Any
    ) -> LtiDeployment | None:
        return self._deployment(self.find_platform(iss, client_id), deployment_id)

    def _registration(self, platform: Platform | None) -> Registration | None:
        if platform is None:
            return None
        registration = (
            Registration()
            .set_issuer(platform.issuer)
            .set_client_id(platform.client_id)
            .set_auth_login_url(platform.auth_login_url)
            .set_auth_token_url(platform.auth_token_url)
            .set_key_set_url(platform.key_set_url)
        )
        if platform.auth_audience:
            registration.set_auth_audience(platform.auth_audience)
        if self._signing_key is not None:
            # pylti1p3 names the key (kid) in its client assertions from the public half.
            registration.set_tool_private_key(self._signing_key.private_key_pem)
            registration.set_tool_public_key(self._signing_key.public_key_pem)
        return registration

    @staticmethod
    def _deployment(platform: Platform | None, deployment_id: str) -> LtiDeployment | None:
        if platform is None or not deployment_id:
            return None
        if any(d.deployment_id == deployment_id for d in platform.deployments):
            return LtiDeployment().set_deployment_id(deployment_id)
        return None
