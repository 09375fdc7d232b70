"""Batch sends with arbitrary items, checked against 8x8's response schema (issue 22).

A rejected item's answer must still match `send-message-many`'s schema: its `user`, `status`
and `clientMessageId` are typed, so invalid input (`[null, null]` as an item, `{"msisdn": {}}`,
`"country": "000"`) may not be echoed into them. Schemathesis' own run (./run) fuzzes the
operation too; this file sends the known troublemakers explicitly and then items drawn from
all of JSON, always with `includeMessagesInResponse` so every item's answer is checked.

Needs the environment ./run sets: PARLEY_ST_BASE_URL, PARLEY_ST_SCHEMA_DIR and
PARLEY_ST_{API_KEY,ACCOUNT_ID,SUBACCOUNT_ID,CHANNEL_ID} (schemathesis.toml reads them too).
"""

import json
import os

import pytest
import requests
import schemathesis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from schemathesis.checks import not_a_server_error
from schemathesis.config import SchemathesisConfig
from schemathesis.core.failures import FailureGroup
from schemathesis.core.transport import Response
from schemathesis.openapi.checks import JsonSchemaError
from schemathesis.specs.openapi.checks import response_schema_conformance

BASE_URL = os.environ["PARLEY_ST_BASE_URL"]
HEADERS = {"Authorization": f"Bearer {os.environ['PARLEY_ST_API_KEY']}"}
SUB_ACCOUNT = os.environ["PARLEY_ST_SUBACCOUNT_ID"]
SCHEMA = schemathesis.openapi.from_path(
    os.path.join(os.environ["PARLEY_ST_SCHEMA_DIR"], "business_messaging_api.json"),
    config=SchemathesisConfig.from_path(os.path.join(os.path.dirname(__file__), "schemathesis.toml")),
)
BATCH = SCHEMA["/api/v1/subaccounts/{subAccountId}/messages/batch"]["POST"]
CHECKS = [not_a_server_error, response_schema_conformance]
SESSION = requests.Session()

GOOD_USER = {"msisdn": "+6591234567"}
TEXT = {"type": "text", "content": {"text": "hello"}}

# Items and whole bodies that once came back with invalid values in typed fields, and their
# relatives: wrong types in every field of an item and of its user.
ITEMS = [
    [None, None],
    None,
    1,
    "a string",
    True,
    [],
    {},
    {"user": None},
    {"user": []},
    {"user": "+6591234567"},
    {"user": {}},
    {"user": {"msisdn": {}}, **TEXT},
    {"user": {"msisdn": []}, **TEXT},
    {"user": {"msisdn": 6591234567}, **TEXT},
    {"user": {"msisdn": None}, **TEXT},
    {"user": {"msisdn": "not a number"}, **TEXT},
    {"user": {"msisdn": "+6591234567", "country": "000"}, **TEXT},
    {"user": {"msisdn": "+6591234567", "country": {}}, **TEXT},
    {"user": {"msisdn": "91234567", "country": "000"}, **TEXT},
    {"user": {"msisdn": "+6591234567", "channelUserId": {}}, **TEXT},
    {"user": {"channelUserId": 5}, **TEXT},
    {"user": {"channelUserId": ""}, **TEXT},
    {"user": {"channelUserId": "SG.123456789012345"}, **TEXT},
    {"user": {"msisdn": "+6591234567", "extra": [1, 2]}, **TEXT},
    {"user": GOOD_USER, "clientMessageId": {}, **TEXT},
    {"user": GOOD_USER, "clientMessageId": 7, **TEXT},
    {"user": GOOD_USER, "clientMessageId": "x" * 500, **TEXT},
    {"user": GOOD_USER, "type": 5, "content": {"text": "hello"}},
    {"user": GOOD_USER, "type": "nonsense", "content": {"text": "hello"}},
    {"user": GOOD_USER, "type": "text", "content": None},
    {"user": GOOD_USER, "type": "text", "content": {"text": {}}},
    {"user": GOOD_USER, "type": "template"},
    {"user": GOOD_USER, "type": "template", "content": {"template": {"name": {}}}},
    {"user": GOOD_USER, **TEXT, "channels": "whatsapp"},
    {"user": GOOD_USER, **TEXT, "scheduled": "not a date"},
    {"user": GOOD_USER, **TEXT},
]


def send(body):
    case = BATCH.Case(
        path_parameters={"subAccountId": SUB_ACCOUNT},
        headers=HEADERS,
        body=body,
        media_type="application/json",
    )
    return case.call_and_validate(base_url=BASE_URL, session=SESSION, checks=CHECKS)


@pytest.mark.parametrize("item", ITEMS, ids=[repr(item)[:60] for item in ITEMS])
def test_item_alone(item):
    send({"messages": [item], "includeMessagesInResponse": True})


def test_all_items_together():
    send({"messages": ITEMS, "includeMessagesInResponse": True, "clientBatchId": "st-all"})


def test_items_completed_by_the_template():
    send(
        {
            "template": TEXT,
            "messages": [{"user": GOOD_USER}] + ITEMS,
            "includeMessagesInResponse": True,
        }
    )


@pytest.mark.parametrize(
    "body",
    [
        {"messages": [[None, None]]},
        {"messages": [{"user": {"msisdn": {}}}]},
        {"messages": [{"user": {"msisdn": "+6591234567", "country": "000"}}]},
        {"messages": [], "includeMessagesInResponse": True},
        {"messages": [GOOD_USER], "includeMessagesInResponse": "yes"},
        {"messages": [{"user": GOOD_USER, **TEXT}], "clientBatchId": {}},
        {"messages": [{"user": GOOD_USER, **TEXT}], "clientBatchId": "b" * 101},
        {"messages": [{"user": GOOD_USER, **TEXT}], "template": []},
        {"messages": {"user": GOOD_USER}},
        {"messages": None},
        {},
        [],
        None,
    ],
    ids=lambda body: repr(body)[:60],
)
def test_body(body):
    send(body)


JSON = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False, allow_infinity=False) | st.text(max_size=12),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=8), children, max_size=3),
    max_leaves=8,
)
FIELD_VALUES = st.one_of(
    JSON,
    st.sampled_from(["+6591234567", "+65000", "000", "", "SG", "text", "template", "whatsapp"]),
)
USER = st.fixed_dictionaries(
    {},
    optional={"msisdn": FIELD_VALUES, "channelUserId": FIELD_VALUES, "country": FIELD_VALUES},
)
ITEM = st.one_of(
    JSON,
    st.fixed_dictionaries(
        {},
        optional={
            "user": st.one_of(USER, JSON),
            "type": FIELD_VALUES,
            "content": st.one_of(JSON, st.fixed_dictionaries({}, optional={"text": FIELD_VALUES})),
            "clientMessageId": FIELD_VALUES,
            "channels": JSON,
        },
    ),
)


@settings(
    max_examples=int(os.environ.get("PARLEY_ST_BATCH_EXAMPLES", "150")),
    derandomize=True,
    database=None,
    deadline=None,
    suppress_health_check=list(HealthCheck),
)
@given(items=st.lists(ITEM, min_size=1, max_size=6), template=st.none() | st.just(TEXT))
def test_arbitrary_items(items, template):
    body = {"messages": items, "includeMessagesInResponse": True}
    if template is not None:
        body["template"] = template
    send(body)


@pytest.mark.parametrize(
    "user",
    [None, {"msisdn": {}}, {"msisdn": "+6591234567", "country": "000"}],
    ids=["null", "msisdn-object", "country-000"],
)
def test_the_check_sees_an_echoed_user(user):
    """The harness itself: an answer like the ones issue 22 found fails the schema check."""
    body = {"messages": [[None, None]], "includeMessagesInResponse": True}
    case = BATCH.Case(path_parameters={"subAccountId": SUB_ACCOUNT}, headers=HEADERS, body=body)
    answer = {
        "batchId": "01a25195-6f50-773f-97da-76c85a44a7cd",
        "acceptedCount": 0,
        "rejectedCount": 1,
        "messages": [
            {
                "umid": "01a25195-6f50-773f-97da-76c9e409059b",
                "user": user,
                "status": {"state": "rejected", "timestamp": "2026-12-07T17:37:57.58Z", "errorCode": 1000},
            }
        ],
    }
    request = requests.Request(
        "POST", f"{BASE_URL}/api/v1/subaccounts/{SUB_ACCOUNT}/messages/batch", json=body
    ).prepare()
    response = Response(
        status_code=200,
        headers={"content-type": ["application/json"]},
        content=json.dumps(answer).encode(),
        request=request,
        elapsed=0.0,
        verify=True,
        message="OK",
    )
    with pytest.raises(FailureGroup) as caught:
        case.validate_response(response, checks=CHECKS)
    assert [type(failure) for failure in caught.value.exceptions] == [JsonSchemaError]
