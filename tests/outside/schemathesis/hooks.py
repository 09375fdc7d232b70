"""Schemathesis hooks for ./run.

The webhook operations carry the subaccount in their body, where 8x8's examples name
"Onion_Marketing", a subaccount of another account that Parley rightly refuses: the
examples (and the cases derived from them) get the tenant's own subaccount instead, so
that adding and deleting webhooks succeeds too and its answers are checked. Generated
values are left alone.

Every answer whose status 8x8's file does not document is recorded:
`response_schema_conformance` checks an answer only against the schema of its own status;
an answer with a status the operation does not list (say a 404 where 8x8 documents 200, 400,
401 and 500) passes unchecked. Such answers are written, one JSON object a line, to the file
named by PARLEY_ST_STATUS_LOG, and ./run lists them after the run (a finding to decide: a
Parley bug, or a gap in 8x8's file).
"""

import json
import os

import schemathesis

LOG = os.environ.get("PARLEY_ST_STATUS_LOG")
SUB_ACCOUNT = os.environ.get("PARLEY_ST_SUBACCOUNT_ID")
EXAMPLE_SUB_ACCOUNT = "Onion_Marketing"


@schemathesis.hook
def before_call(context, case, kwargs):
    if not SUB_ACCOUNT or not case.operation.path.endswith("/webhooks"):
        return
    if isinstance(case.body, list):
        for item in case.body:
            if isinstance(item, dict) and item.get("subAccountId") == EXAMPLE_SUB_ACCOUNT:
                item["subAccountId"] = SUB_ACCOUNT


@schemathesis.hook
def after_call(context, case, response):
    # The coverage phase also sends methods the path does not have (TRACE, …): a 405 there
    # is right, and no operation of 8x8's documents it.
    if not LOG or case.method.upper() != case.operation.method.upper():
        return
    responses = case.operation.definition.raw.get("responses", {}) or {}
    status = str(response.status_code)
    documented = {str(key).upper() for key in responses}
    if status in documented or f"{status[0]}XX" in documented or "DEFAULT" in documented:
        return
    try:
        curl = case.as_curl_command()
    except Exception as exc:  # the record is informative; never fail the run over it
        curl = f"<no curl: {exc}>"
    record = {
        "operationId": case.operation.definition.raw.get("operationId"),
        "method": case.method.upper(),
        "path": case.operation.path,
        "status": response.status_code,
        "documented": sorted(documented),
        "curl": curl,
        "response": response.text[:400],
    }
    with open(LOG, "a", encoding="utf-8") as out:
        out.write(json.dumps(record) + "\n")
