"""Export everything as a zip; delete a company and find nothing of it left anywhere."""
from __future__ import annotations

import io
import json
import zipfile

import boto3
import requests


def _seed_objects(bucket: str, tenant_id: str) -> list[str]:
    s3 = boto3.client("s3", region_name="us-east-1")
    keys = [f"raw/{tenant_id}/u1/sales.csv", f"drop/{tenant_id}/nightly.csv",
            f"tenants/{tenant_id}/lake/transactions/batch=b1/part-0.parquet"]
    for key in keys:
        s3.put_object(Bucket=bucket, Key=key, Body=b"order_id,amount\n1,9.5\n")
        s3.put_object(Bucket=bucket, Key=key, Body=b"order_id,amount\n1,9.5\n2,3\n")  # a second version
    return keys


def test_export_contains_files_and_records_but_no_secrets(api, aws_env):
    owner = api.register("ada@acme.example")
    tenant_id = api.call("GET", "/me", token=owner).data["tenant"]["tenant_id"]
    keys = _seed_objects(aws_env["SL_DATA_BUCKET"], tenant_id)
    api.call("POST", "/invitations", {"email": "ann@acme.example", "role": "viewer"}, token=owner)

    export = api.call("POST", "/tenant/export", token=owner)
    assert export.status_code == 200
    archive = zipfile.ZipFile(io.BytesIO(requests.get(export.data["url"], timeout=10).content))
    names = set(archive.namelist())
    assert {f"files/{k}" for k in keys} <= names
    records = [json.loads(line) for line in archive.read("metadata/records.jsonl").decode().splitlines()]
    kinds = {r["kind"] for r in records}
    assert {"meta", "member", "invite", "audit"} <= kinds
    assert not any("secret_hash" in r for r in records)
    second = api.call("POST", "/tenant/export", token=owner)
    names2 = zipfile.ZipFile(io.BytesIO(requests.get(second.data["url"], timeout=10).content)).namelist()
    assert not any("/exports/" in n for n in names2)  # exports are not exported again


def test_delete_tenant_leaves_nothing_and_spares_others(api, aws_env):
    bucket, table = aws_env["SL_DATA_BUCKET"], aws_env["SL_TABLE_NAME"]
    owner = api.register("ada@acme.example", company="Acme Bikes")
    api.join(owner, "ann@acme.example", "analyst")
    other = api.register("gus@globex.example", company="Globex Cars")
    acme_id = api.call("GET", "/me", token=owner).data["tenant"]["tenant_id"]
    globex_id = api.call("GET", "/me", token=other).data["tenant"]["tenant_id"]
    _seed_objects(bucket, acme_id)
    _seed_objects(bucket, globex_id)
    assert api.call("POST", "/webhook-secrets", {"name": "till"}, token=owner).status_code == 201
    api.call("POST", "/tenant/export", token=owner)

    wrong = api.call("DELETE", "/tenant", {"confirm": "acme"}, token=owner)
    assert wrong.status_code == 400
    assert api.call("DELETE", "/tenant", {"confirm": "Acme Bikes"}, token=owner).status_code == 204

    s3 = boto3.client("s3", region_name="us-east-1")
    versions = s3.list_object_versions(Bucket=bucket)
    left = [v["Key"] for v in versions.get("Versions", []) + versions.get("DeleteMarkers", [])]
    assert not [k for k in left if acme_id in k]
    assert [k for k in left if globex_id in k]
    items = boto3.client("dynamodb", region_name="us-east-1").scan(TableName=table)["Items"]
    assert not [i for i in items if acme_id in json.dumps(i)]
    idp = boto3.client("cognito-idp", region_name="us-east-1")
    emails = [a["Value"] for u in idp.list_users(UserPoolId=aws_env["SL_USER_POOL_ID"])["Users"]
              for a in u["Attributes"] if a["Name"] == "email"]
    assert emails == ["gus@globex.example"]
    assert api.call("GET", "/me", token=other).status_code == 200
