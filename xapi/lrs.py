"""The one HTTP client of CX Academy: posts statements to an LRS and reads them back.

Posting never raises for HTTP trouble: it answers with an ``Outcome`` so the caller (a
delivery task) decides between "done", "give up" and "retry later" without parsing
status codes. Reads raise ``LRSError``, since a reader has no sensible fallback.

Status handling follows xAPI 1.0.3 Part Three (xAPI-Communication.md): 2.1.2 POST
Statements, 3.2 Error Codes, 1.2 Headers; Retry-After follows RFC 9110 10.2.3. A 409 is
resolved by reading the stored statement back and comparing it with ours as Part Two 2.3.1
says (``xapi.equivalence``). Writes never follow redirects.
"""

from __future__ import annotations

import base64
import http.client
import json
import logging
import os
import ssl
import time
import uuid
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from enum import StrEnum
from types import TracebackType
from typing import Any, Protocol
from urllib.parse import urljoin, urlsplit

import requests
import requests.adapters
from requests.structures import CaseInsensitiveDict
from requests.utils import select_proxy

from xapi.equivalence import statement_differences
from xapi.errors import LRSError

log = logging.getLogger(__name__)

MAX_PAGES = 1000
"""Upper bound on "more" links followed by ``query_statements``, so a misbehaving LRS
that hands back the same link forever cannot hang a worker."""

TOKEN_EXPIRY_MARGIN = 30.0
"""Seconds before a bearer token's stated expiry at which we fetch a new one, so a token
does not expire between our check and the LRS's."""

_DETAIL_LIMIT = 500


class Outcome(StrEnum):
    """What became of a POST, in the terms a delivery task acts on."""

    STORED = "stored"
    """The LRS has the statements now. Done."""
    DUPLICATE = "duplicate"
    """The LRS already had these ids (409) with the same content (checked by reading each
    back): a re-send after a lost response. Done; retrying a 409 only repeats it forever."""
    CONFLICT = "conflict"
    """The LRS holds *different* statements under some of these ids (409, read back and
    compared). Those are listed in ``conflicts``; every other statement sent was stored.
    Retrying cannot help: an operator must decide."""
    REJECTED = "rejected"
    """The LRS refused the content or our credentials, or answered in a way that does not
    prove the statements were stored (a redirect, a 200 without their ids). Retrying the
    same request cannot help; someone must look at ``detail``."""
    UNAVAILABLE = "unavailable"
    """The LRS could not be reached or asked us to wait. Retry later, after
    ``retry_after`` seconds when given."""


@dataclass(frozen=True)
class EncodedStatement:
    """A statement already serialised as one JSON object (as an outbox stores it).

    Posted as it is: a worker that sends what it stored skips a decode and an encode per
    statement. It is decoded only to settle a 409 (compared with the LRS's copy).
    """

    id: str
    json: str

    def decoded(self) -> dict[str, Any]:
        value = json.loads(self.json)
        if not isinstance(value, dict):
            raise ValueError(f"statement {self.id} is not a JSON object")
        return value


Statement = Mapping[str, Any] | EncodedStatement
"""What ``post_statements`` takes: a statement to encode, or one encoded already."""


@dataclass(frozen=True)
class Conflict:
    """A statement id the LRS holds with other content than ours."""

    statement_id: str
    stored: dict[str, Any]
    """The statement as the LRS returned it (GET ?statementId=)."""
    differences: tuple[str, ...]
    """Top-level properties that differ once the 2.3.1 exceptions are set aside."""


@dataclass(frozen=True)
class PostResult:
    """The outcome of one ``post_statements`` call."""

    outcome: Outcome
    status: int | None
    detail: str
    retry_after: float | None = None
    statement_ids: tuple[str, ...] = ()
    """Ids the LRS reported storing (the JSON array a 200 carries); empty otherwise."""
    conflicts: tuple[Conflict, ...] = ()
    """With ``Outcome.CONFLICT``: the statements the LRS holds differently."""

    @property
    def delivered(self) -> bool:
        """True when nothing is left to do for these statements."""
        return self.outcome in (Outcome.STORED, Outcome.DUPLICATE)


def parse_retry_after(value: str | None, *, now: datetime | None = None) -> float | None:
    """Seconds to wait from a Retry-After header, or None if absent or unreadable.

    RFC 9110 10.2.3 allows delay-seconds ("120") or an HTTP-date; a date in the past
    means "now", so 0.0.
    """
    if value is None:
        return None
    value = value.strip()
    if value.isdigit():
        return float(value)
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # HTTP-dates are GMT by definition (RFC 9110 5.6.7)
        when = when.replace(tzinfo=UTC)
    reference = now if now is not None else datetime.now(UTC)
    return max(0.0, (when - reference).total_seconds())


class _TokenError(Exception):
    """Raised inside the client when the OAuth2 token endpoint fails."""

    def __init__(self, outcome: Outcome, status: int | None, detail: str) -> None:
        super().__init__(detail)
        self.outcome = outcome
        self.status = status
        self.detail = detail


class LRSClient:
    """Talks to one LRS over one ``requests.Session`` (so connections are reused).

    ``endpoint`` is the xAPI base, e.g. ``http://localhost:8100/xAPI``; statements go to
    ``<endpoint>/statements``. Authenticate with HTTP Basic (``username``/``password``)
    or OAuth2 client credentials (``token_url``/``client_id``/``client_secret``, RFC 6749
    4.4), not both. ``timeout`` is (connect, read) seconds for every request.
    """

    def __init__(
        self,
        endpoint: str,
        *,
        username: str | None = None,
        password: str | None = None,
        version: str = "1.0.3",
        timeout: tuple[float, float] = (3.05, 15.0),
        session: requests.Session | None = None,
        token_url: str | None = None,
        client_id: str | None = None,
        client_secret: str | None = None,
    ) -> None:
        if not endpoint.startswith(("http://", "https://")):
            raise ValueError(f"LRS endpoint must be an http(s) URL, got {endpoint!r}")
        if (username is None) != (password is None):
            raise ValueError("username and password go together")
        oauth = (token_url, client_id, client_secret)
        if any(v is not None for v in oauth) and not all(v is not None for v in oauth):
            raise ValueError("token_url, client_id and client_secret go together")
        if username is not None and token_url is not None:
            raise ValueError("use either Basic (username/password) or OAuth2, not both")
        self._endpoint = endpoint.rstrip("/") + "/"
        self._statements_url = self._endpoint + "statements"
        self._basic: str | None = None
        if username is not None and password is not None:
            # RFC 7617: "Basic " + base64(user ":" password), UTF-8 encoded.
            raw = f"{username}:{password}".encode()
            self._basic = "Basic " + base64.b64encode(raw).decode("ascii")
        self._token_url = token_url
        self._client_credentials = (client_id, client_secret) if token_url is not None else None
        self._token: str | None = None
        self._token_expires_at = 0.0
        self._version = version
        self._timeout = timeout
        self._owns_session = session is None
        self._session = session if session is not None else requests.Session()
        # requests re-reads the proxy and CA-bundle variables on every request when
        # trust_env is on: a fifth of the worker's CPU per small batch (benchmarks/delivery.py).
        # Our own session reads them once per URL instead (_environment), same rules.
        self._environment: dict[str, dict[str, Any]] = {}
        self._post_templates: dict[str, requests.PreparedRequest] = {}
        self._direct: dict[str, _DirectPost] = {}
        if self._owns_session:
            self._session.trust_env = False

    # -- public API -------------------------------------------------------------------

    @property
    def statements_url(self) -> str:
        """The Statement Resource URL this client posts to."""
        return self._statements_url

    def post_statements(self, statements: Sequence[Statement]) -> PostResult:
        """POST ``statements`` as one JSON array (Part Three 2.1.2) and classify the answer."""
        if not statements:
            return PostResult(Outcome.STORED, None, "nothing to send")
        result = self._post_once(statements)
        if result.status == 409:
            if len(statements) > 1:
                # A POST is all-or-nothing (Part Three 2.1.2): one id the LRS already
                # holds makes it refuse the whole batch with 409, and the new statements in
                # it would be silently dropped if we called the batch "duplicate". Sending
                # one by one tells them apart.
                return self._post_one_by_one(statements)
            return self._resolve_conflict(statements[0])
        if result.outcome is Outcome.STORED and result.status == 200:
            missing = _missing_ids(statements, result.statement_ids)
            if missing and len(statements) == 1:
                return PostResult(
                    Outcome.REJECTED,
                    200,
                    f"LRS answered 200 without the id of the statement sent ({_id(statements[0])})",
                )
            if missing:
                # Ralph (and the spec's "ids of the stored statements") leave out ids the
                # LRS already held unchanged; each of those is settled on its own.
                rest = self._post_one_by_one([s for s in statements if _id(s) in missing])
                if rest.outcome in (Outcome.STORED, Outcome.DUPLICATE):
                    return result
                return rest
        return result

    def get_statement(self, statement_id: uuid.UUID | str) -> dict[str, Any] | None:
        """The stored statement with this id, or None if the LRS has none (404)."""
        response = self._read(self._statements_url, {"statementId": str(statement_id)})
        if response.status_code == 404:
            return None
        body = self._json(response)
        if not isinstance(body, dict):
            raise LRSError(
                f"LRS answered a statement GET with {type(body).__name__}, not an object"
            )
        # Part Three 2.1.3 says a statementId GET returns the Statement itself; Ralph 5.1
        # wraps it in a StatementResult ({"statements": [...]}), so accept both.
        if "statements" in body and "actor" not in body:
            found = body["statements"]
            if not isinstance(found, list) or len(found) > 1:
                raise LRSError("LRS answered a statementId GET with several statements")
            if not found:
                return None
            if not isinstance(found[0], dict):
                raise LRSError("LRS answered a statementId GET with a non-object statement")
            return dict(found[0])
        return body

    def query_statements(self, **params: str) -> list[dict[str, Any]]:
        """Every statement matching the xAPI query ``params`` (Part Three 2.1.3), following
        "more" links until the LRS has no more pages."""
        statements: list[dict[str, Any]] = []
        url: str | None = self._statements_url
        query: dict[str, str] | None = dict(params)
        seen: set[str] = set()
        pages = 0
        while url is not None:
            pages += 1
            if pages > MAX_PAGES:
                raise LRSError(f"LRS returned more than {MAX_PAGES} pages; stopping")
            response = self._read(url, query)
            if response.status_code == 404:
                raise LRSError(f"LRS answered 404 for {url}; is the endpoint right?")
            body = self._json(response)
            if not isinstance(body, dict) or not isinstance(body.get("statements"), list):
                raise LRSError("LRS answered a statement query without a 'statements' array")
            page = body["statements"]
            statements.extend(page)
            more = body.get("more")
            if not more or not page:
                break
            # "more" is a relative IRL with the full path (Part Three 2.1.3, StatementResult).
            url = urljoin(self._endpoint, str(more))
            if url in seen:
                raise LRSError(f"LRS returned the same 'more' link twice: {more}")
            seen.add(url)
            query = None
        return statements

    def read_statements_page(
        self, *, more: str | None = None, **params: str
    ) -> tuple[list[Any], str | None]:
        """One page of a statement query: the statements as sent (the caller checks each,
        so one malformed statement does not cost the page) and the "more" IRL of the next
        page (None on the last). Pass ``more`` from the previous page to continue, or the
        query ``params`` to start; a reader that keeps ``more`` can stop and resume between
        pages (Part Three 2.1.3, StatementResult)."""
        url = urljoin(self._endpoint, more) if more else self._statements_url
        response = self._read(url, None if more else dict(params))
        if response.status_code == 404:
            raise LRSError(f"LRS answered 404 for {url}; is the endpoint right?")
        body = self._json(response)
        if not isinstance(body, dict) or not isinstance(body.get("statements"), list):
            raise LRSError("LRS answered a statement query without a 'statements' array")
        page: list[Any] = list(body["statements"])
        next_more = body.get("more")
        return page, str(next_more) if next_more and page else None

    def close(self) -> None:
        """Close the kept-alive POST connections, and the HTTP session if this client made it."""
        for direct in self._direct.values():
            direct.close()
        self._direct.clear()
        if self._owns_session:
            self._session.close()

    def __enter__(self) -> LRSClient:
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.close()

    # -- posting ----------------------------------------------------------------------

    def _resolve_conflict(self, statement: Statement) -> PostResult:
        """A lone statement answered 409: compare it with what the LRS holds (Part Two
        2.3.1), so a different statement under our id is never counted as delivered."""
        statement_id = _id(statement)
        if isinstance(statement, EncodedStatement):
            try:
                statement = statement.decoded()
            except ValueError as err:
                return PostResult(Outcome.REJECTED, 409, f"statement is not JSON: {err}")
        try:
            stored = self.get_statement(statement_id)
        except LRSError as err:
            return PostResult(
                Outcome.UNAVAILABLE,
                409,
                f"409 for {statement_id}, and reading it back failed: {err}",
            )
        if stored is None:
            # The LRS claims the id yet cannot show it (an index not refreshed yet, say):
            # ask again later rather than guess.
            return PostResult(
                Outcome.UNAVAILABLE,
                409,
                f"409 for {statement_id}, but the LRS returns no such statement",
            )
        differences = tuple(statement_differences(statement, stored))
        if not differences:
            return PostResult(
                Outcome.DUPLICATE, 409, f"the LRS already holds {statement_id} unchanged"
            )
        return PostResult(
            Outcome.CONFLICT,
            409,
            f"conflict: the LRS holds other content under {statement_id} "
            f"(differs in {', '.join(differences)})",
            conflicts=(Conflict(statement_id, stored, differences),),
        )

    def _post_once(self, statements: Sequence[Statement]) -> PostResult:
        try:
            body = _json_array(statements)
        except (TypeError, ValueError) as err:
            return PostResult(Outcome.REJECTED, None, f"statements are not JSON: {err}")
        try:
            response = self._send(
                "POST",
                self._statements_url,
                data=body.encode("utf-8"),
                headers={"Content-Type": "application/json"},
                # requests would turn a 301/302/303 into a GET and report the target's
                # 200 as if the statements had been stored: a redirect is reported instead.
                allow_redirects=False,
            )
        except _TokenError as err:
            return PostResult(err.outcome, err.status, err.detail)
        except requests.Timeout as err:
            return PostResult(Outcome.UNAVAILABLE, None, f"LRS timed out: {err}")
        except requests.ConnectionError as err:
            return PostResult(Outcome.UNAVAILABLE, None, f"cannot connect to LRS: {err}")
        except requests.RequestException as err:
            return PostResult(Outcome.UNAVAILABLE, None, f"request to LRS failed: {err}")
        # The same three, as the direct path (_DirectPost) raises them.
        except TimeoutError as err:
            return PostResult(Outcome.UNAVAILABLE, None, f"LRS timed out: {err}")
        except OSError as err:
            return PostResult(Outcome.UNAVAILABLE, None, f"cannot connect to LRS: {err}")
        except http.client.HTTPException as err:
            return PostResult(Outcome.UNAVAILABLE, None, f"request to LRS failed: {err!r}")
        return _classify_post(response, [_id(s) for s in statements])

    def _post_one_by_one(self, statements: Sequence[Statement]) -> PostResult:
        results = []
        for statement in statements:
            results.append(self.post_statements([statement]))
        counts = {outcome: 0 for outcome in Outcome}
        for result in results:
            counts[result.outcome] += 1
        summary = ", ".join(f"{n} {o.value}" for o, n in counts.items() if n)
        detail = f"re-sent one by one: {summary}"
        for worst in (Outcome.UNAVAILABLE, Outcome.REJECTED):
            failed = [r for r in results if r.outcome is worst]
            if failed:
                waits = [r.retry_after for r in failed if r.retry_after is not None]
                return PostResult(
                    worst,
                    failed[0].status,
                    f"{detail}; first problem: {failed[0].detail}",
                    retry_after=max(waits) if waits else None,
                )
        ids = tuple(i for r in results for i in r.statement_ids)
        conflicts = tuple(c for r in results for c in r.conflicts)
        if conflicts:
            return PostResult(Outcome.CONFLICT, 409, detail, statement_ids=ids, conflicts=conflicts)
        outcome = Outcome.STORED if counts[Outcome.STORED] else Outcome.DUPLICATE
        return PostResult(outcome, None, detail, statement_ids=ids)

    # -- reading ----------------------------------------------------------------------

    def _read(self, url: str, params: Mapping[str, str] | None) -> _Reply:
        try:
            response = self._send("GET", url, params=params)
        except _TokenError as err:
            raise LRSError(err.detail) from err
        except requests.RequestException as err:
            raise LRSError(f"cannot read from LRS: {err}") from err
        if response.status_code not in (200, 404):
            raise LRSError(f"LRS answered {response.status_code}: {_snippet(response)}")
        return response

    @staticmethod
    def _json(response: _Reply) -> Any:
        try:
            return response.json()
        except ValueError as err:
            raise LRSError(f"LRS answered {response.status_code} with invalid JSON") from err

    # -- transport and auth -----------------------------------------------------------

    def _environment_for(self, url: str) -> dict[str, Any]:
        """Proxies and certificate settings for ``url``, as requests would find them."""
        if not self._owns_session:
            return {}
        if url not in self._environment:
            self._session.trust_env = True
            try:
                self._environment[url] = dict(
                    self._session.merge_environment_settings(url, {}, None, None, None)
                )
            finally:
                self._session.trust_env = False
            del self._environment[url]["stream"]
        return self._environment[url]

    def _send(self, method: str, url: str, **kwargs: Any) -> _Reply:
        headers = {"X-Experience-API-Version": self._version, **kwargs.pop("headers", {})}
        kwargs = {**self._environment_for(url), **kwargs}
        response = self._request(method, url, headers, kwargs)
        if response.status_code == 401 and self._token_url is not None:
            # The token may have been revoked or expired early: fetch a new one and try
            # exactly once more, so wrong credentials cannot loop.
            self._token = None
            response = self._request(method, url, headers, kwargs)
        return response

    def _request(
        self, method: str, url: str, headers: dict[str, str], kwargs: dict[str, Any]
    ) -> _Reply:
        if method == "POST" and self._owns_session:
            return self._post_direct(url, self._auth(headers), kwargs)
        return self._session.request(
            method, url, headers=self._auth(headers), timeout=self._timeout, **kwargs
        )

    def _post_direct(self, url: str, headers: dict[str, str], kwargs: dict[str, Any]) -> _Reply:
        """A POST over our own kept-alive connection (_DirectPost) or, through a proxy,
        handed straight to the session's connection pool (its adapter).

        requests costs a small batch's POST about twice the CPU of http.client itself
        (benchmarks/delivery.py, issue 12), so without a proxy the statements go out through
        http.client. A proxy stays requests' job, and so does an adapter whose ``send`` is
        not requests' own (replaced in place, as test doubles do): what it does is honoured.

        ``Session.request`` prepares every request anew and merges the session's settings
        and cookie jar into it: a fifth of a worker's CPU per small batch
        (benchmarks/delivery.py). Our own session has no auth, hooks or parameters of its
        own; a POST never follows redirects; and xAPI authenticates with headers (Part
        Three 4), not cookies, so the session's cookie jar is left out. The rest (URL,
        default headers) is prepared once per URL and copied.
        """
        adapter = self._session.get_adapter(url)
        if type(adapter).send is _REQUESTS_SEND:
            direct = self._direct.get(url)
            if direct is None and not select_proxy(url, kwargs.get("proxies") or {}):
                direct = self._direct[url] = _DirectPost(
                    url, self._timeout, kwargs.get("verify", True), kwargs.get("cert")
                )
            if direct is not None:
                return direct.post(kwargs.get("data") or b"", headers)
        template = self._post_templates.get(url)
        if template is None:
            template = requests.Request("POST", url, headers=dict(self._session.headers)).prepare()
            self._post_templates[url] = template
        prepared = template.copy()
        prepared.headers.update(headers)
        prepared.prepare_body(kwargs.get("data"), None)
        response = adapter.send(
            prepared,
            stream=False,
            timeout=self._timeout,
            verify=kwargs.get("verify", True),
            cert=kwargs.get("cert"),
            proxies=kwargs.get("proxies"),
        )
        # Read now, as Session.send does, so the connection goes back to the pool.
        _ = response.content
        return response

    def _auth(self, headers: dict[str, str]) -> dict[str, str]:
        headers = dict(headers)
        if self._basic is not None:
            headers["Authorization"] = self._basic
        elif self._token_url is not None:
            headers["Authorization"] = f"Bearer {self._bearer_token()}"
        return headers

    def _bearer_token(self) -> str:
        if self._token is not None and time.monotonic() < self._token_expires_at:
            return self._token
        assert self._token_url is not None and self._client_credentials is not None
        client_id, client_secret = self._client_credentials
        try:
            # RFC 6749 2.3.1: client credentials in HTTP Basic; 4.4.2: the grant type.
            response = self._session.post(
                self._token_url,
                **self._environment_for(self._token_url),
                data={"grant_type": "client_credentials"},
                auth=(client_id or "", client_secret or ""),
                timeout=self._timeout,
                allow_redirects=False,  # our client secret goes nowhere but the token URL
            )
        except requests.RequestException as err:
            raise _TokenError(
                Outcome.UNAVAILABLE, None, f"cannot reach token endpoint: {err}"
            ) from err
        if response.status_code != 200:
            # RFC 6749 5.2: 400/401 mean the client is not accepted; retrying won't help.
            outcome = (
                Outcome.REJECTED if response.status_code in (400, 401, 403) else Outcome.UNAVAILABLE
            )
            raise _TokenError(
                outcome,
                response.status_code,
                f"token endpoint answered {response.status_code} (authentication): "
                f"{_snippet(response)}",
            )
        try:
            payload = response.json()
            token = payload["access_token"]
            token_type = str(payload.get("token_type", "bearer"))
            expires_in = float(payload.get("expires_in", 3600))
        except (ValueError, KeyError, TypeError) as err:
            raise _TokenError(
                Outcome.UNAVAILABLE, 200, f"token endpoint answered without a token: {err}"
            ) from err
        if token_type.lower() != "bearer":
            raise _TokenError(Outcome.REJECTED, 200, f"unsupported token type {token_type!r}")
        self._token = str(token)
        self._token_expires_at = time.monotonic() + expires_in - TOKEN_EXPIRY_MARGIN
        return self._token


def _id(statement: Statement) -> str:
    if isinstance(statement, EncodedStatement):
        return statement.id.lower()
    return str(statement.get("id", "")).lower()


def _json_array(statements: Sequence[Statement]) -> str:
    """The POST body: a JSON array of the statements, encoded ones joined as they are."""
    return "[" + ",".join(_json_object(statement) for statement in statements) + "]"


def _json_object(statement: Statement) -> str:
    if isinstance(statement, EncodedStatement):
        return statement.json
    return json.dumps(statement, allow_nan=False)


def _missing_ids(statements: Sequence[Statement], stored: Sequence[str]) -> set[str]:
    return {_id(s) for s in statements} - set(stored)


def _stored_ids(response: _Reply, sent: Sequence[str]) -> tuple[str, ...] | str:
    """The ids a 200 lists (lower-case), or why the answer does not prove a store.

    Part Three 2.1.2: a POST answers 200 with the array of the stored statements' ids. A
    200 with anything else (an HTML page, a StatementResult after a redirect turned the
    POST into a GET, ids we never sent) cannot count as stored.
    """
    try:
        body = response.json()
    except ValueError:
        return f"LRS answered 200 without a JSON body: {_snippet(response)[:200]}"
    if not isinstance(body, list) or not all(isinstance(i, str) for i in body):
        return f"LRS answered 200 without the array of statement ids: {_snippet(response)[:200]}"
    ids = tuple(i.lower() for i in body)
    unknown = [i for i in ids if i not in set(sent)]
    if unknown or len(set(ids)) != len(ids):
        return f"LRS answered 200 with ids that do not match the statements sent: {unknown[:3]}"
    return ids


def _classify_post(response: _Reply, sent: Sequence[str]) -> PostResult:
    """Map an LRS answer to POST Statements onto an ``Outcome`` (Part Three 2.1.2, 3.2)."""
    status = response.status_code
    retry_after = parse_retry_after(response.headers.get("Retry-After"))
    if status == 200:
        ids = _stored_ids(response, sent)
        if isinstance(ids, str):
            return PostResult(Outcome.REJECTED, status, ids)
        return PostResult(Outcome.STORED, status, f"stored {len(ids)} statement(s)", None, ids)
    if 300 <= status < 400:
        # A configuration error, not an outage: the endpoint moved (http -> https, a new
        # path). Following it would re-send our credentials and, for 301/302/303, turn the
        # POST into a GET whose 200 proves nothing.
        location = response.headers.get("Location", "?")
        return PostResult(
            Outcome.REJECTED,
            status,
            f"LRS answered {status} redirecting to {location}: redirects are not followed "
            f"for writes; set the destination's endpoint to the LRS's real address",
        )
    if status == 204 or 200 < status < 300:
        # Ralph answers 204 when every id was already stored with equal content.
        return PostResult(Outcome.STORED, status, "stored (no content)")
    if status == 409:
        # Not an answer yet: post_statements settles every 409 by reading the statements
        # back. Until then nothing here may count as delivered.
        return PostResult(
            Outcome.UNAVAILABLE, status, f"LRS already has some of these ids: {_snippet(response)}"
        )
    if status in (401, 403):
        return PostResult(
            Outcome.REJECTED,
            status,
            f"LRS refused our authentication/authorization ({status}): check the LRS "
            f"credentials; {_snippet(response)}",
        )
    if status in (408, 429) or status >= 500:
        # 408/429 and 5xx (502/503/504 above all) are transient: retry, honouring
        # Retry-After when the LRS sends one.
        return PostResult(
            Outcome.UNAVAILABLE,
            status,
            f"LRS unavailable ({status}): {_snippet(response)}",
            retry_after,
        )
    # 400, 413, 422 and any other 4xx: the request itself is wrong, resending it is futile.
    return PostResult(
        Outcome.REJECTED, status, f"LRS rejected the statements ({status}): {_snippet(response)}"
    )


def _snippet(response: _Reply) -> str:
    text = response.text or response.reason or ""
    return text[:_DETAIL_LIMIT]


class _Reply(Protocol):
    """What the classification reads of an LRS answer: a ``requests.Response``, or an
    ``_Answer`` from the direct path."""

    @property
    def status_code(self) -> int: ...

    @property
    def reason(self) -> str: ...

    @property
    def headers(self) -> Mapping[str, str]: ...

    @property
    def text(self) -> str: ...

    def json(self) -> Any: ...


class _Answer:
    """An answer read by http.client, with the parts of ``requests.Response`` we read."""

    def __init__(self, response: http.client.HTTPResponse, content: bytes) -> None:
        self.status_code = response.status
        self.reason = response.reason
        # Case-insensitive, as requests' are: Retry-After, Location.
        self.headers: Mapping[str, str] = CaseInsensitiveDict(response.getheaders())
        self.content = content

    @property
    def text(self) -> str:
        return self.content.decode("utf-8", errors="replace")

    def json(self) -> Any:
        return json.loads(self.content)  # ValueError when it is not JSON, as requests'


#: requests' own adapter send; the direct path stands in for nothing else (see _post_direct).
_REQUESTS_SEND = requests.adapters.HTTPAdapter.send


class _DirectPost:
    """Statement POSTs to one URL over one kept-alive http.client connection.

    Same rules as the requests path: the (connect, read) timeouts, certificates checked
    against requests' CA bundle or the ``verify`` file or folder from the environment, a
    client certificate when one is set, redirects never followed (http.client follows none).
    """

    def __init__(
        self,
        url: str,
        timeout: tuple[float, float],
        verify: bool | str,
        cert: str | tuple[str, str] | None,
    ) -> None:
        parts = urlsplit(url)
        self._host = parts.hostname or ""
        self._port = parts.port
        self._target = (parts.path or "/") + (f"?{parts.query}" if parts.query else "")
        self._tls = _tls_context(verify, cert) if parts.scheme == "https" else None
        self._timeout = timeout
        # requests' default headers (User-Agent, Accept) but not Accept-Encoding: http.client
        # asks for identity and does not decompress.
        self._headers = {
            name: str(value)
            for name, value in requests.utils.default_headers().items()
            if name.lower() not in ("accept-encoding", "connection")
        }
        self._connection: http.client.HTTPConnection | None = None

    def post(self, body: bytes, headers: Mapping[str, str]) -> _Answer:
        # An idle kept-alive connection the LRS has closed fails on first use: the batch goes
        # once more on a new connection. Sending a batch twice is harmless (the ids are the
        # statements' own; the LRS answers 409 or 204 for what it holds).
        for reused in (self._connection is not None, False):
            connection = self._connection or self._connect()
            try:
                connection.request("POST", self._target, body, {**self._headers, **headers})
                response = connection.getresponse()
                content = response.read()
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.close()
                if reused:
                    continue
                raise
            except BaseException:
                self.close()  # a half-read answer must not meet the next request
                raise
            if response.will_close:
                self.close()
            return _Answer(response, content)
        raise AssertionError("unreachable: the second attempt returns or raises")

    def _connect(self) -> http.client.HTTPConnection:
        connect, read = self._timeout
        if self._tls is None:
            connection = http.client.HTTPConnection(self._host, self._port, timeout=connect)
        else:
            connection = http.client.HTTPSConnection(
                self._host, self._port, timeout=connect, context=self._tls
            )
        connection.connect()
        if connection.sock is not None:
            connection.sock.settimeout(read)
        self._connection = connection
        return connection

    def close(self) -> None:
        if self._connection is not None:
            self._connection.close()
            self._connection = None


def _tls_context(verify: bool | str, cert: str | tuple[str, str] | None) -> ssl.SSLContext:
    """The certificate checks requests would make for ``verify`` and ``cert``."""
    if verify is False:
        context = ssl.create_default_context()
        context.check_hostname = False
        context.verify_mode = ssl.CERT_NONE
    elif isinstance(verify, str) and os.path.isdir(verify):
        context = ssl.create_default_context(capath=verify)
    else:
        bundle = verify if isinstance(verify, str) else requests.utils.DEFAULT_CA_BUNDLE_PATH
        context = ssl.create_default_context(cafile=bundle)
    if isinstance(cert, tuple):
        context.load_cert_chain(cert[0], cert[1])
    elif cert:
        context.load_cert_chain(cert)
    return context
