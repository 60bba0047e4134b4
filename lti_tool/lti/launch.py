"""OIDC login initiation and launch validation: pylti1p3 behind one small adapter.

pylti1p3 does the heavy lifting (registration lookup, JWKS parsing, message validators).
We tighten what LTI 1.3 requires and it leaves loose:
- state and nonce are kept server-side, bound to each other, and are single use, so the
  flow works without third-party cookies and an id_token cannot be replayed;
- the state is bound to the browser that started the login (platform storage, a
  partitioned cookie, or as a last resort nothing: see login_binding.py);
- only RS256 is accepted, exp and iat are required, iat may not be in the future;
- aud must contain our client_id, and azp must equal it when aud has several values;
- the platform JWKS is cached and fetched again when a token names an unknown kid, with
  bounded, rate-limited fetches (lti_tool/lti/jwks.py).
"""

from __future__ import annotations

import json
import logging
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, cast
from urllib.parse import parse_qs, urlsplit

import jwt
import requests
from pylti1p3.contrib.flask.message_launch import FlaskMessageLaunch
from pylti1p3.contrib.flask.oidc_login import FlaskOIDCLogin
from pylti1p3.contrib.flask.request import FlaskRequest
from pylti1p3.exception import LtiException, OIDCException
from pylti1p3.launch_data_storage.base import LaunchDataStorage
from pylti1p3.registration import Registration, TKeySet

from lti_tool.egress import EgressPolicy
from lti_tool.errors import LaunchError
from lti_tool.lti.claims import LaunchClaims, check_token_shape
from lti_tool.lti.deep_linking import DeepLinkingSettings
from lti_tool.lti.jwks import require_key_set
from lti_tool.lti.login_binding import BindingPath, BrowserEvidence, choose_binding_path
from lti_tool.lti.platform_storage import platform_origin, require_storage_target
from lti_tool.lti.state import StateStore
from lti_tool.lti.submission_review import MESSAGE_TYPE as SUBMISSION_REVIEW_REQUEST
from lti_tool.lti.submission_review import ReviewRequest
from lti_tool.lti.tool_conf import DbToolConf

log = logging.getLogger(__name__)

CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"
RESOURCE_LINK_REQUEST = "LtiResourceLinkRequest"
DEEP_LINKING_REQUEST = "LtiDeepLinkingRequest"
SUPPORTED_MESSAGE_TYPES = frozenset(
    {RESOURCE_LINK_REQUEST, DEEP_LINKING_REQUEST, SUBMISSION_REVIEW_REQUEST}
)
# Tolerated clock difference between the platform and us (seconds).
CLOCK_LEEWAY = 60


class UnknownDeploymentError(LaunchError):
    """Raised when a verified launch names a deployment its registration does not list."""

    def __init__(
        self, message: str, *, deployment_id: str, client_id: str, body: dict[str, Any]
    ) -> None:
        super().__init__(message)
        self.deployment_id = deployment_id
        self.client_id = client_id
        self.body = body


class _StoreData(LaunchDataStorage[Any]):
    """pylti1p3's storage interface over our StateStore; never tied to a cookie."""

    def __init__(self, store: StateStore, ttl: int, *, deferred: bool = False) -> None:
        super().__init__()
        self._store = store
        self._ttl = ttl
        #: With ``deferred``, writes wait here for ``pending_writes``: the login sends them
        #: with its own in one round trip, all with the login's lifetime (pylti1p3 asks a
        #: day for its nonce record, which nothing reads: our own nonce is what is checked).
        self._deferred: dict[str, str] | None = {} if deferred else None

    def get_session_cookie_name(self) -> str | None:
        return None

    def can_set_keys_expiration(self) -> bool:
        return True

    def get_value(self, key: str) -> Any:
        raw = self._store.get(self._prepare_key(key))
        return None if raw is None else json.loads(raw)

    def set_value(self, key: str, value: Any, exp: int | None = None) -> None:
        if self._deferred is not None:
            self._deferred[self._prepare_key(key)] = json.dumps(value)
            return
        self._store.put(self._prepare_key(key), json.dumps(value), exp or self._ttl)

    def pending_writes(self) -> dict[str, str]:
        """The deferred writes, handed over once; any later write goes straight to the store."""
        pending, self._deferred = self._deferred or {}, None
        return pending

    def check_value(self, key: str) -> bool:
        return self._store.get(self._prepare_key(key)) is not None


def _state_key(state: str) -> str:
    return "oidc-state:" + state


def _nonce_key(nonce: str) -> str:
    return "oidc-nonce:" + nonce


class _Login(FlaskOIDCLogin):
    def __init__(
        self, tool_conf: DbToolConf, store: StateStore, ttl: int, storage_target: str | None
    ) -> None:
        request = FlaskRequest(session={})
        self._data = _StoreData(store, ttl, deferred=True)
        super().__init__(request, tool_conf, launch_data_storage=self._data)
        self._store = store
        self._ttl = ttl
        self._storage_target = storage_target
        self.started: LoginStart | None = None

    def _prepare_redirect_url(self, launch_url: str) -> str:
        url = super()._prepare_redirect_url(launch_url)
        query = parse_qs(urlsplit(url).query)
        state, nonce = query["state"][0], query["nonce"][0]
        registration = self._registration
        origin = platform_origin(registration.get_auth_login_url() or "")
        binding = {
            "nonce": nonce,
            "iss": registration.get_issuer(),
            "client_id": registration.get_client_id(),
            # Kept with the state, not taken from the launch POST: the check page talks to
            # the frame and origin this login used (decision 0006).
            "storage_target": self._storage_target,
            "platform_origin": origin,
        }
        # pylti1p3's own records (its nonce) and ours, in one round trip to the store.
        self._store.put_many(
            {
                **self._data.pending_writes(),
                _state_key(state): json.dumps(binding),
                _nonce_key(nonce): state,
            },
            self._ttl,
        )
        self.started = LoginStart(
            auth_url=url, state=state, storage_target=self._storage_target, platform_origin=origin
        )
        return url


@dataclass(frozen=True)
class LoginStart:
    """A login initiation we accepted: where the browser goes next and what it must keep."""

    #: The OIDC authentication request to the platform (LTI 1.3 section 5.1.1.1).
    auth_url: str
    state: str
    #: The platform's lti_storage_target; None when it offers no platform storage.
    storage_target: str | None
    #: Origin storage messages go to and must come from.
    platform_origin: str


@dataclass(frozen=True)
class PendingLogin:
    """The server-side record of a login, looked up by its state before the launch is run."""

    state: str
    storage_target: str | None
    platform_origin: str


def require_pending_login(store: StateStore, state: str) -> PendingLogin:
    """The login a launch's state names; LaunchError when unknown, expired or spent."""
    if not state:
        raise LaunchError("The launch is missing its 'state' parameter.")
    raw = store.get(_state_key(state))
    if raw is None:
        raise LaunchError(_UNKNOWN_STATE)
    binding = json.loads(raw)
    return PendingLogin(
        state=state,
        storage_target=binding.get("storage_target"),
        platform_origin=binding.get("platform_origin", ""),
    )


_UNKNOWN_STATE = (
    "The launch state is unknown, expired or already used. Please launch again from your course."
)


def begin_login(
    params: dict[str, str], tool_conf: DbToolConf, store: StateStore, *, launch_url: str, ttl: int
) -> LoginStart:
    """Accept a third-party initiated login (LTI 1.3 section 4.1); the web layer answers
    with the redirect, or with the platform storage page when ``lti_storage_target`` came."""
    for required in ("iss", "login_hint", "target_link_uri"):
        if not params.get(required):
            raise LaunchError(f"The login request is missing its '{required}' parameter.")
    target = urlsplit(params["target_link_uri"])
    ours = urlsplit(launch_url)
    # The target must be one of our own URLs; anything else would make us an open redirect.
    if (target.scheme, target.netloc) != (ours.scheme, ours.netloc):
        raise LaunchError("The login request's target_link_uri does not point at this tool.")
    storage_target = require_storage_target(params.get("lti_storage_target"))
    login = _Login(tool_conf, store, ttl, storage_target)
    try:
        login.get_redirect_object(launch_url)
    except (LtiException, OIDCException) as err:
        message = str(err)
        if "registration" in message.lower():
            raise LaunchError(
                "This platform (issuer and client_id) is not registered with CX Academy."
            ) from err
        raise LaunchError(f"The login request was refused: {message}") from err
    assert login.started is not None  # set by _prepare_redirect_url, which just ran
    return login.started


class _Launch(FlaskMessageLaunch):
    def __init__(
        self,
        tool_conf: DbToolConf,
        store: StateStore,
        ttl: int,
        http: requests.Session,
        jwks_ttl: int,
        egress: EgressPolicy,
    ) -> None:
        request = FlaskRequest(session={})
        super().__init__(
            request,
            tool_conf,
            launch_data_storage=_StoreData(store, ttl),
            requests_session=http,
        )
        self._store = store
        self._http = http
        self._jwks_ttl = jwks_ttl
        self._egress = egress
        self._binding: dict[str, Any] = {}
        self._browser = BrowserEvidence()
        self._allow_unbound = False
        self.binding_path = BindingPath.SERVER_STATE

    # pylti1p3 validates in an order that checks state and nonce before the signature; we
    # check the signature first and only then spend the single-use state and nonce.
    def validate(self) -> _Launch:
        self._validated = True
        try:
            self.validate_jwt_format()
            self._check_header()
            self.validate_state()
            self.validate_registration()
            self.validate_jwt_signature()
            self._check_audience()
            self.validate_nonce()
            self.validate_deployment()
            self._check_message_type()
            self.validate_message()
            self._spend_state_and_nonce()
        except Exception:
            self._validated = False
            raise
        return self

    def validate_jwt_format(self) -> _Launch:
        super().validate_jwt_format()
        # Valid base64 JSON is not yet a JWT: header and payload must be objects, and the
        # claims we read must have their JSON types, before anything looks inside them.
        check_token_shape(self._jwt.get("header"), self._jwt.get("body"))
        return self

    def _check_header(self) -> None:
        header = self._jwt.get("header") or {}
        # LTI 1.3 security framework 5.1.3: RS256 only; refusing others stops alg confusion.
        if header.get("alg") != "RS256":
            raise LaunchError(
                f"The id_token is signed with {header.get('alg')!r}; RS256 is required."
            )
        if not header.get("kid"):
            raise LaunchError("The id_token header names no key (kid).")

    def validate_state(self) -> _Launch:
        state = self._get_request_param("state")  # type: ignore[no-untyped-call]
        if not state:
            raise LaunchError("The launch is missing its 'state' parameter.")
        raw = self._store.get(_state_key(state))
        if raw is None:
            raise LaunchError(_UNKNOWN_STATE)
        # Login CSRF: the browser posting this must be the one that started the login
        # (decision 0006). Checked before anything else, so a stranger's browser learns
        # nothing about the token it was made to post.
        self.binding_path = choose_binding_path(
            state, self._browser, allow_unbound=self._allow_unbound
        )
        self._binding = json.loads(raw)
        self._binding["state"] = state
        return self

    def validate_registration(self) -> _Launch:
        body = self._jwt.get("body") or {}
        if not body.get("iss"):
            raise LaunchError("The id_token has no issuer (iss).")
        if body.get("iss") != self._binding.get("iss"):
            raise LaunchError("The id_token comes from a different platform than the login.")
        if self._binding.get("client_id") not in _audiences(body):
            raise LaunchError("The id_token is addressed to another tool (aud).")
        try:
            super().validate_registration()
        except LtiException as err:
            raise LaunchError(
                "This platform (issuer and client_id) is not registered with CX Academy."
            ) from err
        return self

    def get_client_id(self) -> str:
        # pylti1p3 takes the first audience; ours may stand anywhere in the list.
        audiences = _audiences(self._jwt.get("body") or {})
        bound = self._binding.get("client_id")
        return str(bound if bound in audiences else (audiences[0] if audiences else ""))

    def validate_jwt_signature(self) -> _Launch:
        public_key, alg = self.get_public_key()
        try:
            jwt.decode(
                self._get_id_token(),
                public_key,
                algorithms=[alg],
                leeway=CLOCK_LEEWAY,
                options={"verify_aud": False, "require": ["exp", "iat", "iss", "aud"]},
            )
        except jwt.ExpiredSignatureError as err:
            raise LaunchError("The id_token has expired.") from err
        except jwt.ImmatureSignatureError as err:
            raise LaunchError("The id_token was issued in the future (iat).") from err
        except jwt.MissingRequiredClaimError as err:
            raise LaunchError(f"The id_token is missing the required '{err.claim}' claim.") from err
        except jwt.InvalidSignatureError as err:
            raise LaunchError("The id_token signature does not verify.") from err
        except jwt.InvalidTokenError as err:
            raise LaunchError(f"The id_token is invalid: {err}.") from err
        iat = self._jwt["body"].get("iat")
        # PyJWT only checks iat's type in some versions; LTI needs it not to lie ahead.
        if not isinstance(iat, int | float) or iat > time.time() + CLOCK_LEEWAY:
            raise LaunchError("The id_token was issued in the future (iat).")
        return self

    def _found_registration(self) -> Registration:
        # validate_registration() runs before every step that asks, and raises if none.
        assert self._registration is not None
        return self._registration

    def get_public_key(self) -> tuple[str, str]:
        registration = self._found_registration()
        key_set_url = registration.get_key_set_url()
        # DbToolConf sets the URL on every registration (the column is not nullable).
        assert key_set_url is not None
        jwks = require_key_set(
            self._store,
            key_set_url,
            self._jwt["header"]["kid"],
            ttl=self._jwks_ttl,
            egress=self._egress,
        )
        # require_key_set keeps only a "keys" list of objects: the shape TKeySet names.
        registration.set_key_set(cast(TKeySet, jwks))
        try:
            return super().get_public_key()
        except LtiException as err:
            raise LaunchError(
                "The id_token is signed with a key the platform does not publish (unknown kid)."
            ) from err

    def _check_audience(self) -> None:
        body = self._jwt["body"]
        client_id = self._found_registration().get_client_id()
        audiences = _audiences(body)
        # LTI 1.3 section 5.1.2: aud must contain our client_id; with several audiences
        # azp must be present and equal our client_id.
        if client_id not in audiences:
            raise LaunchError("The id_token is addressed to another tool (aud).")
        if (len(audiences) > 1 or "azp" in body) and body.get("azp") != client_id:
            raise LaunchError("The id_token's authorized party (azp) is not this tool.")
        if client_id != self._binding.get("client_id"):
            raise LaunchError("The id_token is for a different client than the login.")

    def validate_nonce(self) -> _Launch:
        nonce = self._jwt["body"].get("nonce")
        if not nonce:
            raise LaunchError("The id_token has no nonce.")
        if nonce != self._binding.get("nonce") or self._store.get(_nonce_key(nonce)) is None:
            raise LaunchError("The id_token's nonce is not the one issued for this launch.")
        return self

    def validate_deployment(self) -> _Launch:
        deployment_id = self._jwt["body"].get(CLAIM + "deployment_id")
        if not deployment_id:
            raise LaunchError("The id_token has no deployment_id claim.")
        try:
            super().validate_deployment()
        except LtiException as err:
            # Signature, audience and nonce are already checked: the platform really sent
            # this, so the web edge may record the deployment as pending (decision 0012).
            raise UnknownDeploymentError(
                f"The deployment '{deployment_id}' is not registered for this platform.",
                deployment_id=str(deployment_id),
                client_id=str(self._binding.get("client_id", "")),
                body=dict(self._jwt["body"]),
            ) from err
        return self

    def _check_message_type(self) -> None:
        message_type = self._jwt["body"].get(CLAIM + "message_type")
        if message_type not in SUPPORTED_MESSAGE_TYPES:
            raise LaunchError(f"CX Academy cannot handle LTI messages of type {message_type!r}.")
        if message_type == DEEP_LINKING_REQUEST:
            # Before pylti1p3's own check, so the instructor reads which setting failed.
            DeepLinkingSettings.from_claims(self._jwt["body"]).require_resource_links()
        elif message_type == SUBMISSION_REVIEW_REQUEST:
            # pylti1p3's SubmissionReviewLaunchValidator runs next (for_user and lineitem);
            # ours adds the resource link a placement needs and says which claim failed.
            ReviewRequest.from_claims(self._jwt["body"])

    def validate_message(self) -> _Launch:
        try:
            super().validate_message()
        except LtiException as err:
            raise LaunchError(f"The launch message is incomplete: {err}.") from err
        return self

    def _spend_state_and_nonce(self) -> None:
        state = self._binding["state"]
        # Two copies of one id_token racing here: exactly one take succeeds.
        if self._store.take(_state_key(state)) is None:
            raise LaunchError("This launch was already used. Please launch again from your course.")
        if self._store.take(_nonce_key(self._binding["nonce"])) is None:
            raise LaunchError("The id_token's nonce was already used.")


def _audiences(body: Mapping[str, Any]) -> list[Any]:
    aud = body.get("aud")
    return aud if isinstance(aud, list) else [aud]


def validate_launch(
    tool_conf: DbToolConf,
    store: StateStore,
    *,
    ttl: int,
    http: requests.Session,
    jwks_ttl: int,
    egress: EgressPolicy,
    browser: BrowserEvidence,
    allow_unbound: bool = True,
) -> LaunchClaims:
    """Validate the id_token POSTed to the launch URL; LaunchError says what failed.

    ``browser`` is what the posting browser showed of its login (login_binding); the
    path that proved it is logged with the accepted launch."""
    launch = _Launch(tool_conf, store, ttl, http, jwks_ttl, egress)
    launch._browser = browser
    launch._allow_unbound = allow_unbound
    if not launch._get_request_param("id_token"):  # type: ignore[no-untyped-call]
        raise LaunchError("The launch is missing its 'id_token' parameter.")
    try:
        launch.validate()
    except LaunchError:
        raise
    except LtiException as err:
        raise LaunchError(f"The id_token is not valid: {err}") from err
    body = dict(launch._jwt["body"])
    # Operators watch for server-state: those launches had no browser binding (decision 0006).
    log.log(
        logging.WARNING if launch.binding_path is BindingPath.SERVER_STATE else logging.INFO,
        "launch accepted: iss=%s login bound by %s",
        body.get("iss"),
        launch.binding_path.value,
    )
    client_id = launch._found_registration().get_client_id()
    # DbToolConf names the client on every registration it returns.
    assert client_id is not None
    return LaunchClaims.from_body(body, client_id=client_id)
