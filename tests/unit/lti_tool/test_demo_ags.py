"""The demo LMS's AGS endpoints refuse what a platform must refuse: tokens without the
right scope or not its own, wrong media types, scores breaking the spec's rules, and a
timestamp that is not later than the last one recorded."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import jwt
import pytest
from flask.testing import FlaskClient

from lti_tool.demo import ags
from lti_tool.demo.deep_linking import PlacedLink, Placements
from lti_tool.demo.lms import COURSE, DemoLMSConfig, _PlatformConf, create_demo_lms
from lti_tool.lti.grades import (
    LINEITEM_CONTAINER_MEDIA_TYPE,
    LINEITEM_MEDIA_TYPE,
    RESULT_CONTAINER_MEDIA_TYPE,
    SCOPE_LINEITEM,
    SCOPE_LINEITEM_READONLY,
    SCOPE_RESULT_READONLY,
    SCOPE_SCORE,
    SCORE_MEDIA_TYPE,
    next_page,
)

BASE = "http://lms.test"
ROOT = f"/ags/{COURSE['id']}"
SCORES = f"{ROOT}/lineitems/1/lineitem/scores"


@pytest.fixture
def config(tmp_path: Path) -> DemoLMSConfig:
    return DemoLMSConfig(BASE, "http://tool.test", tmp_path)


@pytest.fixture
def lms(config: DemoLMSConfig) -> FlaskClient:
    return create_demo_lms(config).test_client()


def token(config: DemoLMSConfig, *scopes: str, **changes: Any) -> str:
    conf = _PlatformConf(config=config)
    registration = conf.get_registration()
    claims = {"sub": "cxa-demo-client", "iss": config.issuer, "scopes": " ".join(scopes)}
    claims.update(changes)
    return registration.encode_and_sign(
        claims, registration.get_platform_private_key(), expiration=3600
    )


def bearer(value: str, **headers: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}", **headers}


def score(**changes: Any) -> dict[str, Any]:
    body = {
        "userId": "ada",
        "scoreGiven": 7,
        "scoreMaximum": 10,
        "activityProgress": "Completed",
        "gradingProgress": "FullyGraded",
        "timestamp": "2026-11-30T12:00:00.250+00:00",
        "comment": "Best of 1",
    }
    body.update(changes)
    return {k: v for k, v in body.items() if v is not None}


def post_score(lms: FlaskClient, config: DemoLMSConfig, body: Any, **headers: str) -> Any:
    return lms.post(
        SCORES,
        json=body,
        headers=bearer(token(config, SCOPE_SCORE), **{"Content-Type": SCORE_MEDIA_TYPE, **headers}),
    )


def test_a_valid_score_lands_in_the_gradebook(lms: FlaskClient, config: DemoLMSConfig) -> None:
    assert post_score(lms, config, score()).status_code == 204
    page = lms.get("/gradebook").get_data(as_text=True)
    assert re.search(r'data-learner="ada" data-item="1"><strong class="score">7 / 10', page)


def test_no_token_and_a_foreign_token_are_401(lms: FlaskClient, config: DemoLMSConfig) -> None:
    assert lms.post(SCORES, json=score(), content_type=SCORE_MEDIA_TYPE).status_code == 401
    stranger = jwt.encode({"scopes": SCOPE_SCORE, "iss": BASE}, "x" * 32, algorithm="HS256")
    answer = lms.post(
        SCORES, json=score(), headers=bearer(stranger, **{"Content-Type": SCORE_MEDIA_TYPE})
    )
    assert answer.status_code == 401


def test_a_token_without_the_score_scope_is_403(lms: FlaskClient, config: DemoLMSConfig) -> None:
    answer = lms.post(
        SCORES,
        json=score(),
        headers=bearer(token(config, SCOPE_LINEITEM), **{"Content-Type": SCORE_MEDIA_TYPE}),
    )
    assert answer.status_code == 403
    assert "scope" in answer.get_json()["reason"]


def test_a_score_as_plain_json_is_415(lms: FlaskClient, config: DemoLMSConfig) -> None:
    answer = post_score(lms, config, score(), **{"Content-Type": "application/json"})
    assert answer.status_code == 415


@pytest.mark.parametrize(
    ("changes", "status", "words"),
    [
        ({"userId": None}, 400, "userId is required"),
        ({"timestamp": None}, 400, "timestamp is required"),
        ({"activityProgress": None}, 400, "activityProgress is required"),
        ({"gradingProgress": "Done"}, 400, "gradingProgress must be one of"),
        ({"scoreMaximum": None}, 400, "scoreMaximum"),
        ({"scoreGiven": -1}, 400, "negative"),
        ({"timestamp": "2026-11-30T12:00:00"}, 400, "no time zone"),
        ({"userId": "mallory"}, 422, "not a learner"),
    ],
)
def test_scores_breaking_the_rules_are_refused_with_a_reason(
    lms: FlaskClient, config: DemoLMSConfig, changes: dict[str, Any], status: int, words: str
) -> None:
    answer = post_score(lms, config, score(**changes))
    assert answer.status_code == status
    assert words in answer.get_json()["reason"]


@pytest.mark.parametrize(
    "second", ["2026-11-30T12:00:00.900+00:00", "2026-11-30T11:59:59.000+00:00"]
)
def test_a_timestamp_not_later_in_whole_seconds_is_409(
    lms: FlaskClient, config: DemoLMSConfig, second: str
) -> None:
    assert post_score(lms, config, score()).status_code == 204
    answer = post_score(lms, config, score(scoreGiven=9, timestamp=second))
    assert answer.status_code == 409
    assert post_score(lms, config, score(timestamp="2026-11-30T12:00:01Z")).status_code == 204


def test_line_items_are_created_listed_in_pages_and_read_back(
    lms: FlaskClient, config: DemoLMSConfig
) -> None:
    write = bearer(token(config, SCOPE_LINEITEM), **{"Content-Type": LINEITEM_MEDIA_TYPE})
    for n in range(3):
        created = lms.post(
            f"{ROOT}/lineitems",
            json={"label": f"Quiz {n}", "scoreMaximum": 10, "resourceId": f"quiz:q{n}"},
            headers=write,
        )
        assert created.status_code == 201
        assert created.content_type == LINEITEM_MEDIA_TYPE
    read = bearer(token(config, SCOPE_LINEITEM_READONLY), Accept=LINEITEM_CONTAINER_MEDIA_TYPE)
    first = lms.get(f"{ROOT}/lineitems?limit=2", headers=read)
    assert first.content_type == LINEITEM_CONTAINER_MEDIA_TYPE
    assert len(first.get_json()) == 2
    following = next_page(first.headers["Link"])
    assert following is not None
    second = lms.get(following.removeprefix(BASE), headers=read)
    assert len(second.get_json()) == 2 and "Link" not in second.headers
    filtered = lms.get(f"{ROOT}/lineitems?resource_id=quiz:q1", headers=read).get_json()
    assert [i["label"] for i in filtered] == ["Quiz 1"]
    one = lms.get(
        filtered[0]["id"].removeprefix(BASE),
        headers=bearer(token(config, SCOPE_LINEITEM), Accept=LINEITEM_MEDIA_TYPE),
    )
    assert one.get_json()["resourceId"] == "quiz:q1"


@pytest.mark.parametrize(
    "body", [{"scoreMaximum": 10}, {"label": "x", "scoreMaximum": 0}, {"label": "x"}]
)
def test_a_line_item_needs_a_label_and_a_positive_maximum(
    lms: FlaskClient, config: DemoLMSConfig, body: dict[str, Any]
) -> None:
    answer = lms.post(
        f"{ROOT}/lineitems",
        json=body,
        headers=bearer(token(config, SCOPE_LINEITEM), **{"Content-Type": LINEITEM_MEDIA_TYPE}),
    )
    assert answer.status_code == 400


def test_creating_with_a_read_only_token_is_403(lms: FlaskClient, config: DemoLMSConfig) -> None:
    answer = lms.post(
        f"{ROOT}/lineitems",
        json={"label": "x", "scoreMaximum": 1},
        headers=bearer(
            token(config, SCOPE_LINEITEM_READONLY), **{"Content-Type": LINEITEM_MEDIA_TYPE}
        ),
    )
    assert answer.status_code == 403


def test_results_come_back_with_their_media_type(lms: FlaskClient, config: DemoLMSConfig) -> None:
    post_score(lms, config, score())
    answer = lms.get(
        f"{ROOT}/lineitems/1/lineitem/results?user_id=ada",
        headers=bearer(token(config, SCOPE_RESULT_READONLY), Accept=RESULT_CONTAINER_MEDIA_TYPE),
    )
    assert answer.content_type == RESULT_CONTAINER_MEDIA_TYPE
    (result,) = answer.get_json()
    assert (result["userId"], result["resultScore"], result["resultMaximum"]) == ("ada", 7, 10)


def test_a_learner_launch_carries_the_ags_claim(config: DemoLMSConfig) -> None:
    book = ags.Gradebook(context_id="c", learners={"ada": "Ada"})
    item = book.add_item(label="CX", score_maximum=100.0, resource_link_id="cx-academy")
    claim = ags.launch_claim(book, BASE, "cx-academy")[ags.ENDPOINT_CLAIM]
    assert claim["lineitem"] == f"{BASE}/ags/c/lineitems/{item.id}/lineitem"
    assert SCOPE_SCORE in claim["scope"]


REVIEW = {"reviewableStatus": ["Submitted", "Completed"], "url": "http://tool.test/lti/review"}


def test_a_line_item_keeps_its_submission_review_and_offers_the_review_once_handed_in(
    lms: FlaskClient, config: DemoLMSConfig
) -> None:
    created = lms.post(
        f"{ROOT}/lineitems",
        json={
            "label": "Quiz",
            "scoreMaximum": 10,
            "resourceId": "quiz:q",
            "submissionReview": REVIEW,
        },
        headers=bearer(token(config, SCOPE_LINEITEM), **{"Content-Type": LINEITEM_MEDIA_TYPE}),
    ).get_json()
    assert created["submissionReview"] == REVIEW
    item_id = created["id"].rsplit("/lineitems/", 1)[1].split("/")[0]
    # Nothing handed in yet: no button, and the route refuses.
    assert f"/gradebook/review/{item_id}/ada" not in lms.get("/gradebook").get_data(as_text=True)
    assert lms.get(f"/gradebook/review/{item_id}/ada").status_code == 404
    sent = lms.post(
        f"{ROOT}/lineitems/{item_id}/lineitem/scores",
        json=score(activityProgress="Submitted"),
        headers=bearer(token(config, SCOPE_SCORE), **{"Content-Type": SCORE_MEDIA_TYPE}),
    )
    assert sent.status_code == 204
    assert f"/gradebook/review/{item_id}/ada" in lms.get("/gradebook").get_data(as_text=True)
    login = lms.get(f"/gradebook/review/{item_id}/ada")
    assert login.status_code == 302
    assert "lti_message_hint=review-" in login.headers["Location"]
    assert "target_link_uri=http%3A%2F%2Ftool.test%2Flti%2Freview" in login.headers["Location"]


@pytest.mark.parametrize(
    "review",
    [
        "yes",
        {"url": "http://tool.test/r"},
        {"reviewableStatus": []},
        {"reviewableStatus": ["Done"]},
        {"reviewableStatus": ["Submitted"], "custom": {"a": 1}},
    ],
    ids=["not-object", "no-status", "empty-status", "unknown-status", "custom-not-strings"],
)
def test_a_malformed_submission_review_is_400(
    lms: FlaskClient, config: DemoLMSConfig, review: Any
) -> None:
    answer = lms.post(
        f"{ROOT}/lineitems",
        json={"label": "Quiz", "scoreMaximum": 10, "submissionReview": review},
        headers=bearer(token(config, SCOPE_LINEITEM), **{"Content-Type": LINEITEM_MEDIA_TYPE}),
    )
    assert answer.status_code == 400
    assert "submissionReview" in answer.get_json()["reason"]


def test_a_placed_links_column_comes_back_after_a_restart(config: DemoLMSConfig) -> None:
    Placements(config.data_dir / "placed-links.json").add_links(
        [
            PlacedLink(
                id="p1",
                title="Quiz",
                text="",
                url="http://tool.test/lti/activities/quiz/q",
                custom={},
                line_item={"scoreMaximum": 100, "label": "Placed quiz", "submissionReview": REVIEW},
                placed_by="grace",
            )
        ]
    )
    page = create_demo_lms(config).test_client().get("/gradebook").get_data(as_text=True)
    assert "Placed quiz" in page
