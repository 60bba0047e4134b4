"""The built-in demo LMS: a small but genuine LTI 1.3 platform for the embedded default.

It has its own RSA key and JWKS, an OIDC authorization endpoint that checks what the tool
sends, and signs id_tokens with the standard claims through ``lti1p3platform``. It never
runs in production (see Settings.check) and keeps no data beyond its key file.
"""

from __future__ import annotations

import html
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any
from urllib.parse import urlencode, urlsplit

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from flask import Flask, abort, jsonify, redirect, render_template, request
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.message_launch import MessageLaunchAbstract
from lti1p3platform.registration import Registration
from sqlalchemy.orm import Session
from werkzeug.wrappers import Response

from lti_tool.config import is_production_url
from lti_tool.demo import ags, deep_linking, nrps, submission_review
from lti_tool.demo import registration as dynamic_registration
from lti_tool.errors import ConfigError
from lti_tool.lti import roles
from lti_tool.store import platforms

CLIENT_ID = "cxa-demo-client"
JWT_BEARER = "urn:ietf:params:oauth:client-assertion-type:jwt-bearer"
DEPLOYMENT_ID = "cxa-demo-deployment"
# Launches in our iframe keep their LTI Platform Storage in the frame page itself.
STORAGE_TARGET = "_parent"
CLAIM = "https://purl.imsglobal.org/spec/lti/claim/"


@dataclass(frozen=True)
class Persona:
    login: str
    name: str
    email: str
    roles: tuple[str, ...]
    #: On the course's class list (NRPS); an organisation-wide role is not a member.
    in_course: bool = True


PERSONAS = {
    "ada": Persona("ada", "Ada Okafor", "ada.okafor@demo-lms.test", (roles.LEARNER,)),
    "sam": Persona("sam", "Sam Lindqvist", "sam.lindqvist@demo-lms.test", (roles.LEARNER,)),
    "grace": Persona("grace", "Grace Mendes", "grace.mendes@demo-lms.test", (roles.INSTRUCTOR,)),
    # Learning and development: the LMS's institution administrator sees the goals overview.
    "lena": Persona(
        "lena",
        "Lena Brandt",
        "lena.brandt@demo-lms.test",
        (roles.INSTITUTION_ADMINISTRATOR,),
        in_course=False,
    ),
}

COURSE = {"id": "demo-course-101", "title": "Service Desk Onboarding", "label": "SD-101"}
# The course's membership (NRPS): everyone who can launch, plus a learner who never does
# and one whose enrolment is suspended, so the class view shows both kinds.
ROSTER_ONLY = (
    nrps.RosterEntry("noor", "Noor Haddad", "noor.haddad@demo-lms.test", (roles.LEARNER,)),
    nrps.RosterEntry(
        "ivan", "Ivan Petrov", "ivan.petrov@demo-lms.test", (roles.LEARNER,), "Inactive"
    ),
)
LINKS = {
    "cx-academy": "CX Academy: customer-service training",
}


@dataclass(frozen=True)
class DemoLMSConfig:
    #: Where this LMS is served; also its issuer.
    base_url: str
    #: The tool's base URL (where /lti/login and /lti/launch live).
    tool_url: str
    #: Folder for the LMS's private key.
    data_dir: Path

    @property
    def issuer(self) -> str:
        return self.base_url

    @property
    def tool_login_url(self) -> str:
        return self.tool_url + "/lti/login"

    @property
    def tool_launch_url(self) -> str:
        return self.tool_url + "/lti/launch"

    def private_key_pem(self) -> str:
        """The LMS's signing key, made on first use and kept for later runs."""
        path = self.data_dir / "demo-lms-key.pem"
        if not path.exists():
            self.data_dir.mkdir(parents=True, exist_ok=True)
            key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
            path.write_bytes(
                key.private_bytes(
                    serialization.Encoding.PEM,
                    serialization.PrivateFormat.PKCS8,
                    serialization.NoEncryption(),
                )
            )
            path.chmod(0o600)
        return path.read_text()


def platform_spec(config: DemoLMSConfig) -> platforms.PlatformSpec:
    """How the tool registers this LMS, exactly as an administrator would by hand."""
    return platforms.PlatformSpec(
        name="CX Academy demo LMS",
        issuer=config.issuer,
        client_id=CLIENT_ID,
        auth_login_url=config.base_url + "/auth",
        auth_token_url=config.base_url + "/token",
        key_set_url=config.base_url + "/jwks",
        deployment_ids=(DEPLOYMENT_ID,),
    )


def register_with_tool(session: Session, config: DemoLMSConfig) -> None:
    """Idempotent: the demo runner calls it on every start."""
    spec = platform_spec(config)
    if platforms.get_platform(session, spec.issuer, spec.client_id) is None:
        platforms.add_platform(session, spec)


class _PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        self._config: DemoLMSConfig = kwargs["config"]
        # A client registered by Dynamic Registration; None: the built-in registration.
        self._client: dynamic_registration.RegisteredClient | None = kwargs.get("client")

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        config = self._config
        private_pem = config.private_key_pem()
        public_pem = (
            serialization.load_pem_private_key(private_pem.encode(), password=None)
            .public_key()
            .public_bytes(
                serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
            )
            .decode()
        )
        client = self._client
        return (
            Registration()
            .set_iss(config.issuer)
            .set_client_id(client.client_id if client else CLIENT_ID)
            .set_deployment_id(client.deployment_id if client else DEPLOYMENT_ID)
            .set_oidc_login_url(client.initiate_login_uri if client else config.tool_login_url)
            .set_launch_url(client.redirect_uris[0] if client else config.tool_launch_url)
            .set_platform_private_key(private_pem)
            .set_platform_public_key(public_pem)
            .set_tool_key_set_url(
                client.jwks_uri if client else config.tool_url + "/.well-known/jwks.json"
            )
        )


class _Launch(MessageLaunchAbstract):
    def get_preflight_response(self) -> dict[str, Any]:
        source = request.form if request.method == "POST" else request.args
        return {k: source[k] for k in source}

    def validate_preflight_response(self, preflight_response: dict[str, Any]) -> None:
        super().validate_preflight_response(preflight_response)
        # OIDC Core 3.1.2.1 as profiled by LTI 1.3 section 5.1.1.1: a platform answers only
        # the registered redirect URI, with these fixed parameters.
        expected = {
            "scope": "openid",
            "response_type": "id_token",
            "response_mode": "form_post",
            "prompt": "none",
        }
        for name, value in expected.items():
            if preflight_response.get(name) != value:
                abort(400, f"{name} must be {value!r}")
        # The library's own check above refuses a launch with no registration.
        assert self._registration is not None
        if preflight_response.get("redirect_uri") != self._registration.get_launch_url():
            abort(400, "redirect_uri is not registered for this tool")

    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        return render_template("demo_lms_post.html", data=launch_data)


def create_demo_lms(config: DemoLMSConfig) -> Flask:
    # Its personas launch with no password at all: it must never face real users, however it
    # is started (Settings.check refuses CXA_DEMO_LMS in production; this covers direct calls).
    for url in (config.base_url, config.tool_url):
        if is_production_url(url):
            raise ConfigError(f"the demo LMS is never built for production (https) URLs: {url}")
    app = Flask(__name__, template_folder="templates", static_folder="static")
    platform_conf = _PlatformConf(config=config)
    placements = deep_linking.Placements(config.data_dir / "placed-links.json")
    registered = dynamic_registration.RegisteredClients(config.data_dir / "registered-tools.json")
    dynamic_registration.install(app, registered, base_url=config.base_url)

    def decode_tool_jwt(token: str) -> dict[str, Any]:
        # A fresh conf per response fetches the tool's JWKS anew, as for /token.
        conf = _PlatformConf(config=config)
        conf.get_registration()
        return conf.tool_validate_and_decode(token)

    instructor = next(p.login for p in PERSONAS.values() if roles.INSTRUCTOR in p.roles)
    gradebook = ags.install(
        app,
        base_url=config.base_url,
        context_id=COURSE["id"],
        learners={p.login: p.name for p in PERSONAS.values() if roles.LEARNER in p.roles},
        links=LINKS,
        platform_conf=lambda: _PlatformConf(config=config),
        instructor=instructor,
        knows_link=lambda link_id: placements.get_link(link_id) is not None,
    )
    # The gradebook lives in memory, placed links on disk: a restart gives each placed
    # link its column back.
    for placed in placements.list_links():
        if placed.line_item is not None:
            gradebook.add_item_from_content_item(placed.id, placed.line_item)
    deep_linking.install(
        app,
        placements,
        issuer=config.issuer,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT_ID,
        tool_login_url=config.tool_login_url,
        tool_launch_url=config.tool_launch_url,
        tool_url=config.tool_url,
        personas=PERSONAS,
        decode_tool_jwt=decode_tool_jwt,
        create_line_item=gradebook.add_item_from_content_item,
    )
    submission_review.install(
        app,
        gradebook,
        placements,
        issuer=config.issuer,
        client_id=CLIENT_ID,
        deployment_id=DEPLOYMENT_ID,
        tool_login_url=config.tool_login_url,
        tool_launch_url=config.tool_launch_url,
        instructor=instructor,
    )

    nrps.install(
        app,
        base_url=config.base_url,
        context=COURSE,
        roster=[
            *(
                nrps.RosterEntry(p.login, p.name, p.email, p.roles)
                for p in PERSONAS.values()
                if p.in_course
            ),
            *ROSTER_ONLY,
        ],
        links=LINKS,
        platform_conf=lambda: _PlatformConf(config=config),
    )

    @app.get("/")
    def course() -> str:
        return render_template(
            "demo_lms_course.html", course=COURSE, links=LINKS, personas=PERSONAS.values()
        )

    @app.get("/launch/<login>/<link>")
    def launch(login: str, link: str) -> Response:
        """Third-party initiated login (LTI 1.3 section 4.1), as an LMS starts it."""
        if login not in PERSONAS or link not in LINKS:
            abort(404)
        params = {
            "iss": config.issuer,
            "login_hint": login,
            "target_link_uri": config.tool_launch_url,
            "lti_message_hint": link,
            "client_id": CLIENT_ID,
            "lti_deployment_id": DEPLOYMENT_ID,
        }
        if request.args.get("storage") == STORAGE_TARGET:
            # Our frame page answers LTI Platform Storage messages; say so (lti-cs-oidc 2.1).
            params["lti_storage_target"] = STORAGE_TARGET
        return redirect(config.tool_login_url + "?" + urlencode(params))

    @app.get("/frame/<login>/<link>")
    def frame(login: str, link: str) -> str:
        """The same launch inside an iframe, the way most LMSs show tools."""
        if login not in PERSONAS or link not in LINKS:
            abort(404)
        return render_template(
            "demo_lms_frame.html",
            persona=PERSONAS[login],
            title=LINKS[link],
            src=f"/launch/{login}/{link}?storage={STORAGE_TARGET}",
            tool_origin=_origin(config.tool_url),
        )

    @app.route("/auth", methods=["GET", "POST"])
    def authorize() -> str:
        """OIDC authorization endpoint: checks the tool's request, answers with an id_token."""
        source = request.form if request.method == "POST" else request.args
        persona = PERSONAS.get(source.get("login_hint", ""))
        link = source.get("lti_message_hint", "")
        if persona is None:
            abort(400, "login_hint names no user of this LMS")
        if (
            link not in LINKS
            and not deep_linking.knows_hint(link, placements)
            and not submission_review.knows_hint(link, gradebook)
        ):
            abort(400, "lti_message_hint names no link in this course")
        client = registered.get(source.get("client_id", ""))
        conf = _PlatformConf(config=config, client=client) if client else platform_conf
        # The library's Request wraps a framework's; _Launch reads Flask's request itself.
        message = _Launch(request, conf)  # type: ignore[arg-type]
        message.set_user_data(
            persona.login,
            list(persona.roles),
            full_name=persona.name,
            email_address=persona.email,
        )
        message.set_resource_link_claim(link, title=LINKS.get(link))
        message.set_launch_context_claim(
            COURSE["id"],
            context_types=["http://purl.imsglobal.org/vocab/lis/v2/course#CourseOffering"],
            context_title=COURSE["title"],
            context_label=COURSE["label"],
        )
        message.set_launch_presentation_claim(document_target="iframe")
        message.set_extra_claims(
            {
                "given_name": persona.name.split()[0],
                "family_name": persona.name.split()[-1],
                "https://purl.imsglobal.org/spec/lti/claim/tool_platform": {
                    "guid": "cxa-demo-lms",
                    "name": "CX Academy demo LMS",
                    "product_family_code": "cxa-demo",
                },
                "https://purl.imsglobal.org/spec/lti/claim/launch_presentation": {
                    "document_target": "iframe",
                    "locale": "en-US",
                },
            }
        )
        deep_linking.prepare_message(
            message, link, placements, config.base_url + "/deep-link/return"
        )
        message.set_extra_claims(nrps.launch_claim(config.base_url, COURSE["id"]))
        # The link actually launched (a placed link's own id, not the hint naming it).
        link_id = (message.lti_claim_resource_link or {}).get(CLAIM + "resource_link", {})
        if roles.LEARNER in persona.roles:
            message.set_extra_claims(
                ags.launch_claim(gradebook, config.base_url, link_id.get("id", link))
            )
        submission_review.prepare_message(
            message,
            link,
            gradebook,
            placements,
            base_url=config.base_url,
            tool_launch_url=config.tool_launch_url,
        )
        return message.lti_launch()  # type: ignore[no-any-return]

    spent_jtis: dict[str, float] = {}

    @app.post("/token")
    def token() -> tuple[Response, int] | Response:
        """OAuth2 client-credentials grant with a signed JWT (IMS Security Framework 4.1),
        checked the way a platform must: the tool's signature against its published JWKS,
        iss = sub = client_id, aud = this endpoint, a fresh jti."""
        form = {k: request.form[k] for k in request.form}
        if form.get("grant_type") != "client_credentials":
            return _oauth_error("unsupported_grant_type", "grant_type must be client_credentials")
        if form.get("client_assertion_type") != JWT_BEARER:
            return _oauth_error("invalid_request", f"client_assertion_type must be {JWT_BEARER}")
        for required in ("client_assertion", "scope"):
            if not form.get(required):
                return _oauth_error("invalid_request", f"{required} is missing")
        # One conf per request: lti1p3platform keeps the decoded JWT on the instance, and
        # a fresh instance fetches the tool's key set anew, so a rotated key is seen at once.
        conf = _PlatformConf(config=config)
        conf.get_registration()
        try:
            claims = conf.tool_validate_and_decode(form["client_assertion"])
        except Exception as err:
            return _oauth_error("invalid_client", f"client assertion refused: {err}", 401)
        audiences = claims.get("aud")
        audiences = audiences if isinstance(audiences, list) else [audiences]
        problem = None
        if claims.get("iss") != CLIENT_ID or claims.get("sub") != CLIENT_ID:
            problem = "iss and sub must be the client_id"
        elif config.base_url + "/token" not in audiences:
            problem = "aud must be this token endpoint"
        elif not claims.get("jti") or claims["jti"] in spent_jtis:
            problem = "jti missing or already used"
        if problem:
            return _oauth_error("invalid_client", problem, 401)
        now = time.time()
        for jti, expiry in list(spent_jtis.items()):
            if expiry < now:
                del spent_jtis[jti]
        spent_jtis[claims["jti"]] = float(claims.get("exp", now + 3600))
        return jsonify(conf.get_access_token(form))

    @app.get("/jwks")
    def jwks() -> Response:
        platform_conf.get_registration()
        return jsonify(platform_conf.get_jwks())

    @app.errorhandler(400)
    def bad_request(err: Any) -> tuple[str, int]:
        return (
            f"<h1>Demo LMS refused the request</h1><p>{html.escape(str(err.description))}</p>",
            400,
        )

    return app


def _oauth_error(code: str, description: str, status: int = 400) -> tuple[Response, int]:
    # RFC 6749 section 5.2 error response.
    return jsonify(error=code, error_description=description), status


def _origin(url: str) -> str:
    parts = urlsplit(url)
    return f"{parts.scheme}://{parts.netloc}"


def create_demo_lms_from_env() -> Flask:
    """Gunicorn entry point: ``gunicorn 'lti_tool.demo.lms:create_demo_lms_from_env()'``."""
    from lti_tool.config import Settings

    settings = Settings.from_env()
    return create_demo_lms(
        DemoLMSConfig(
            base_url=settings.demo_lms_url,
            tool_url=settings.base_url,
            data_dir=settings.var_dir / "demo-lms",
        )
    )
