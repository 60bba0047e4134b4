"""The claims model: what it keeps must fit our columns and make valid statements."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from lti_tool.errors import LaunchError
from lti_tool.lti.claims import (
    CLAIM,
    MAX_LOCALE,
    LaunchClaims,
    check_token_shape,
    display_text,
    language_tag,
    usable_email,
)
from tests.unit.xapi.catalogue import NAMESPACE
from xapi import vocabulary
from xapi.events import Activity, ActorFormat, Learner, LearningEvent
from xapi.statements import build_statement
from xapi.validation import is_language_tag

_any_text = st.text(st.characters(exclude_categories=()), max_size=80)


def _body(**changes: Any) -> dict[str, Any]:
    body: dict[str, Any] = {
        "iss": "https://lms.example.test",
        "sub": "learner-1",
        "name": "Lee Learner",
        CLAIM + "deployment_id": "deployment-1",
        CLAIM + "message_type": "LtiResourceLinkRequest",
        CLAIM + "roles": [],
        CLAIM + "resource_link": {"id": "link-1"},
    }
    body.update(changes)
    return body


def _statement(learner: Learner, language: str | None = None) -> dict[str, Any]:
    return build_statement(  # type: ignore[no-any-return]
        LearningEvent(
            source_id="test:1",
            verb=vocabulary.EXPERIENCED,
            learner=learner,
            object=Activity(id="https://cx.example.test/a/1", type=vocabulary.COURSE, name="A"),
            timestamp=datetime.now(UTC),
            registration=uuid.uuid4(),
            language=language,
        ),
        namespace=NAMESPACE,
    )


@settings(max_examples=300, deadline=None, database=None)
@given(
    st.one_of(
        _any_text,
        st.builds(lambda a, b, c: f"{a}@{b}.{c}", _any_text, _any_text, _any_text),
        st.emails().map(str),
    )
)
def test_a_kept_email_always_makes_a_valid_mbox_actor(value: str) -> None:
    email = usable_email(value)
    if email is None:
        return
    for actor_format in (ActorFormat.MBOX, ActorFormat.MBOX_SHA1SUM):
        _statement(Learner("https://lms.example.test", "s", email=email, actor_format=actor_format))


@pytest.mark.parametrize(
    ("value", "expected"),
    [
        ("lee@example.test", "lee@example.test"),
        ("  lee@example.test ", "lee@example.test"),
        ("not-an-email", None),
        ("a@b", None),
        ("@example.test", None),
        ("lee@example.test\x00", None),
        ("lee<x>@example.test", None),
        ("x" * 310 + "@example.test", None),
        (["lee@example.test"], None),
        (None, None),
    ],
)
def test_usable_email(value: Any, expected: str | None) -> None:
    assert usable_email(value) == expected


@settings(max_examples=400, deadline=None, database=None)
@given(st.one_of(_any_text, st.from_regex(r"[a-zA-Z]{2,3}([_-][a-zA-Z0-9]{1,9}){0,4}")))
def test_a_kept_locale_is_a_well_formed_tag_that_fits_and_stays_put(value: str) -> None:
    tag = language_tag(value)
    if tag is None:
        return
    assert is_language_tag(tag) and len(tag) <= MAX_LOCALE
    assert language_tag(tag) == tag
    assert _statement(Learner("https://lms.example.test", "s"), tag)["context"]["language"] == tag


@settings(max_examples=300, deadline=None, database=None)
@given(_any_text, st.integers(min_value=1, max_value=40))
def test_display_text_fits_and_has_no_control_characters(value: str, limit: int) -> None:
    text = display_text(value, limit)
    if text is None:
        return
    assert 0 < len(text) <= limit
    assert text == text.strip()
    assert all(ch.isprintable() or ch == " " or not ch.isascii() for ch in text)
    assert "\x00" not in text
    text.encode("utf-8")  # no lone surrogates: every database can store it


@pytest.mark.parametrize("header", [[], 1, "x", None, True])
def test_a_header_that_is_no_object_is_refused(header: Any) -> None:
    with pytest.raises(LaunchError, match="header is not a JSON object"):
        check_token_shape(header, _body())


@pytest.mark.parametrize("body", [[], 1, "x", None, False])
def test_a_payload_that_is_no_object_is_refused(body: Any) -> None:
    with pytest.raises(LaunchError, match="payload is not a JSON object"):
        check_token_shape({"alg": "RS256"}, body)


def test_a_null_resource_link_is_refused() -> None:
    # pylti1p3 reads it with body.get(claim, {}): a null one reached it and crashed (500).
    with pytest.raises(LaunchError, match="'resource_link' claim must be a JSON object"):
        check_token_shape({"alg": "RS256"}, {**_body(), CLAIM + "resource_link": None})


def test_a_null_context_counts_as_no_context() -> None:
    body = {**_body(), CLAIM + "context": None}
    check_token_shape({"alg": "RS256"}, body)
    assert LaunchClaims.from_body(body, client_id="c").context_id is None


def test_a_payload_nesting_absurdly_deep_is_refused() -> None:
    deep: Any = "bottom"
    for _ in range(100):
        deep = [deep]
    with pytest.raises(LaunchError, match="nests deeper"):
        check_token_shape({"alg": "RS256"}, _body(custom=deep))


@pytest.mark.parametrize("number", [float("nan"), float("inf"), float("-inf")])
def test_non_finite_numbers_are_refused(number: float) -> None:
    with pytest.raises(LaunchError, match="not valid JSON"):
        check_token_shape({"alg": "RS256"}, _body(custom={"n": [number]}))


def test_the_name_falls_back_to_given_and_family_names() -> None:
    claims = LaunchClaims.from_body(
        _body(name=["x"], given_name="Lee", family_name=7), client_id="c"
    )
    assert claims.name == "Lee"


def test_identifiers_are_kept_exactly_as_sent() -> None:
    sub = "ünïcode sub ✓ " + "s" * 200
    claims = LaunchClaims.from_body(_body(sub=sub), client_id="c")
    assert claims.sub == sub
