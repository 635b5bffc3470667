"""The CloudFormation template, the packaged stack and the local provisioner describe the same system."""
from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import boto3
import pytest

from chalicelib.config import Settings, env_name
from chalicelib.ingest.schema import DATASETS
from infra.local.provision import CHALICE_RESOURCES, CLOUD_ONLY, LOCAL_RESOURCES, load_template

ROOT = Path(__file__).resolve().parents[2]
TEMPLATE = load_template()


def _resources_of(resource_type: str) -> dict[str, dict]:
    return {name: spec for name, spec in TEMPLATE["Resources"].items() if spec.get("Type") == resource_type}


def test_every_template_type_is_provisioned_locally_or_declared_cloud_only() -> None:
    types = {spec["Type"] for name, spec in TEMPLATE["Resources"].items() if name not in CHALICE_RESOURCES}
    assert types <= set(LOCAL_RESOURCES) | set(CLOUD_ONLY)
    assert not set(LOCAL_RESOURCES) & set(CLOUD_ONLY)
    assert set(LOCAL_RESOURCES) | set(CLOUD_ONLY) <= types, "a handler for a type the template no longer has"


def test_every_dead_letter_queue_has_an_alarm_that_notifies_operations() -> None:
    redrives = [spec["Properties"].get("RedrivePolicy") for spec in _resources_of("AWS::SQS::Queue").values()]
    queues = {redrive["deadLetterTargetArn"]["Fn::GetAtt"][0] for redrive in redrives if redrive}
    assert queues == {"IngestDeadLetterQueue", "JobsDeadLetterQueue"}
    watched = {}
    for alarm in _resources_of("AWS::CloudWatch::Alarm").values():
        properties = alarm["Properties"]
        queue = properties["Dimensions"][0]["Value"]["Fn::GetAtt"][0]
        watched[queue] = properties
        assert properties["MetricName"] == "ApproximateNumberOfMessagesVisible" and properties["Threshold"] == 0
        assert properties["AlarmActions"] == [{"Ref": "OperationsTopic"}]
    assert set(watched) == queues


def test_every_function_gets_the_same_settings_and_every_setting_exists() -> None:
    def variables(name: str) -> dict:
        return TEMPLATE["Resources"][name]["Properties"]["Environment"]["Variables"]

    api = variables("APIHandler")
    assert variables("JwtAuthorizer") == api and variables("IngestWorker") == api
    worker = {k: v for k, v in variables("AnalysisWorker").items() if k not in ("SL_STAGE", "POWERTOOLS_SERVICE_NAME")}
    assert worker == api
    known = {env_name(field) for field in Settings.__dataclass_fields__}
    assert set(api) <= known


def test_provisioned_resources_exist_with_their_security_settings(aws_env: dict[str, str]) -> None:
    s3, region = boto3.client("s3"), aws_env["AWS_REGION"]
    bucket = aws_env["SL_DATA_BUCKET"]
    rule = s3.get_bucket_encryption(Bucket=bucket)["ServerSideEncryptionConfiguration"]["Rules"][0]
    assert rule["ApplyServerSideEncryptionByDefault"]["SSEAlgorithm"] == "aws:kms"
    assert rule["BucketKeyEnabled"] is True
    assert s3.get_bucket_versioning(Bucket=bucket)["Status"] == "Enabled"
    assert all(s3.get_public_access_block(Bucket=bucket)["PublicAccessBlockConfiguration"].values())
    assert len(s3.list_buckets()["Buckets"]) == len(_resources_of("AWS::S3::Bucket"))

    idp = boto3.client("cognito-idp", region_name=region)
    pool = idp.describe_user_pool(UserPoolId=aws_env["SL_USER_POOL_ID"])["UserPool"]
    assert pool["Policies"]["PasswordPolicy"]["MinimumLength"] >= 12
    assert pool["UsernameAttributes"] == ["email"]
    groups = {g["GroupName"] for g in idp.list_groups(UserPoolId=pool["Id"])["Groups"]}
    assert groups == {"owner", "admin", "analyst", "viewer"}
    client = idp.describe_user_pool_client(UserPoolId=pool["Id"], ClientId=aws_env["SL_USER_POOL_CLIENT_ID"])
    assert "ClientSecret" not in client["UserPoolClient"]

    table = boto3.client("dynamodb").describe_table(TableName=aws_env["SL_TABLE_NAME"])["Table"]
    assert [i["IndexName"] for i in table["GlobalSecondaryIndexes"]] == ["gsi1"]
    ttl = boto3.client("dynamodb").describe_time_to_live(TableName=aws_env["SL_TABLE_NAME"])
    assert ttl["TimeToLiveDescription"]["AttributeName"] == "expires_at"

    sqs = boto3.client("sqs")
    attributes = sqs.get_queue_attributes(QueueUrl=aws_env["SL_JOBS_QUEUE_URL"], AttributeNames=["All"])["Attributes"]
    assert json.loads(attributes["RedrivePolicy"])["maxReceiveCount"] == 3
    assert len(sqs.list_queues()["QueueUrls"]) == len(_resources_of("AWS::SQS::Queue"))

    assert boto3.client("kms").describe_key(KeyId=aws_env["SL_KMS_KEY_ID"])["KeyMetadata"]["Enabled"]
    for dataset in DATASETS:
        glue = boto3.client("glue").get_table(DatabaseName=aws_env["SL_GLUE_DATABASE"], Name=dataset)["Table"]
        assert glue["Parameters"]["projection.tenant_id.type"] == "injected"
        assert glue["Parameters"]["storage.location.template"] == (
            f"s3://{bucket}/tenants/${{tenant_id}}/lake/{dataset}/_manifests/")
        assert glue["StorageDescriptor"]["InputFormat"] == "org.apache.hadoop.hive.ql.io.SymlinkTextInputFormat"
    workgroup = boto3.client("athena").get_work_group(WorkGroup=aws_env["SL_ATHENA_WORKGROUP"])["WorkGroup"]
    configuration = workgroup["Configuration"]
    assert configuration["EnforceWorkGroupConfiguration"] is True
    assert configuration["ResultConfiguration"]["EncryptionConfiguration"]["EncryptionOption"] == "SSE_KMS"
    assert configuration["BytesScannedCutoffPerQuery"] > 0


@pytest.fixture(scope="module")
def packaged_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("package")
    chalice = Path(sys.executable).with_name("chalice")
    env = {**os.environ, "AWS_DEFAULT_REGION": "us-east-1"}
    subprocess.run([str(chalice), "package", "--stage", "prod", "--merge-template", "infra/resources.json",
                    str(out)], cwd=ROOT, env=env, check=True, capture_output=True, timeout=300)
    return out / "sam.json"


def test_packaged_template_merges_settings_into_the_api_functions(packaged_template: Path) -> None:
    resources = json.loads(packaged_template.read_text())["Resources"]
    for name in CHALICE_RESOURCES:
        variables = resources[name]["Properties"]["Environment"]["Variables"]
        assert variables["SL_USER_POOL_ID"] == {"Ref": "UserPool"}
        assert variables["SL_STAGE"] == "prod"
    policy = json.dumps(resources["ApiHandlerRole"]["Properties"]["Policies"])
    assert "MetadataTable" in policy and "s3:*" not in policy


def test_packaged_template_passes_cfn_lint(packaged_template: Path) -> None:
    cfn_lint = shutil.which("cfn-lint", path=str(Path(sys.executable).parent))
    result = subprocess.run([cfn_lint, str(packaged_template)], capture_output=True, text=True, timeout=300)
    assert result.returncode == 0, result.stdout + result.stderr
