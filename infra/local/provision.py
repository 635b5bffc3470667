"""Create the resources of ``infra/resources.json`` in the embedded AWS (moto), with boto3.

The CloudFormation template is the one description of the infrastructure. moto's CloudFormation
does not know Cognito, Glue or Athena, so this module reads the template itself: each resource
type has a small function that turns the template's properties into boto3 calls. Types that only
make sense in the cloud are listed in ``CLOUD_ONLY`` with what stands in for them locally; a test
checks that every type in the template is handled by exactly one of the two.
"""
from __future__ import annotations

import json
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

import boto3

TEMPLATE_PATH = Path(__file__).resolve().parents[1] / "resources.json"
LOCAL_PARAMETERS = {"Stage": "local", "WorkerImageUri": "local", "PandasLayerArn": "local", "PortalOrigin": "*",
                    "PortalUrl": "http://127.0.0.1:8080", "EmailFrom": "no-reply@saleslens.example",
                    "SupportEmail": "support@saleslens.example", "AlarmEmail": ""}
ACCOUNT_ID = "123456789012"  # moto's account

CLOUD_ONLY = {
    "AWS::WAFv2::WebACL": "no WAF on loopback; sign-up is not behind a CAPTCHA locally",
    "AWS::WAFv2::WebACLAssociation": "no WAF on loopback",
    "AWS::ApiGateway::GatewayResponse": "infra.local.gateway gives the same 404/401 JSON bodies",
    "AWS::S3::BucketPolicy": "its one rule denies plain HTTP, and the embedded AWS listens on plain-HTTP loopback",
    "AWS::IAM::Role": "moto does not enforce IAM; the policies are checked by cfn-lint",
    "AWS::Lambda::Function": "the event pump runs jobs.handler in-process",
    "AWS::Lambda::EventSourceMapping": "the event pump polls the jobs queue",
    "AWS::Lambda::Permission": "no Lambda locally",
    "AWS::Events::Rule": "the event pump sends scheduled messages (infra.local.pump.Schedule)",
    "AWS::CloudWatch::Alarm": "no CloudWatch metrics locally; the dead-letter queues they watch are provisioned",
    "AWS::SNS::Topic": "the operations topic only carries the dead-letter alarms",
    "AWS::SNS::Subscription": "the operations topic only carries the dead-letter alarms",
}
CHALICE_RESOURCES = {"APIHandler", "JwtAuthorizer", "IngestWorker"}  # merged into chalice's functions: environment only


class Template:
    """The parsed template plus what has been created so far, for resolving intrinsics."""

    def __init__(self, document: dict[str, Any], parameters: dict[str, str], region: str) -> None:
        self.document = document
        self.names: dict[str, str] = {"AWS::AccountId": ACCOUNT_ID, "AWS::Region": region,
                                      "AWS::Partition": "aws", **parameters}
        self.attributes: dict[tuple[str, str], str] = {}

    def resources(self) -> list[tuple[str, str, dict[str, Any]]]:
        """(logical id, type, raw properties) of every resource the template defines itself."""
        return [(name, spec["Type"], spec.get("Properties", {}))
                for name, spec in self.document["Resources"].items() if name not in CHALICE_RESOURCES]

    def created(self, logical_id: str, ref: str, **attributes: str) -> None:
        self.names[logical_id] = ref
        for attribute, value in attributes.items():
            self.attributes[(logical_id, attribute)] = value

    def resolve(self, value: Any) -> Any:
        """Evaluate Ref, Fn::GetAtt and Fn::Sub against what exists locally."""
        if isinstance(value, list):
            return [self.resolve(item) for item in value]
        if not isinstance(value, dict):
            return value
        if set(value) == {"Ref"}:
            return self.names[value["Ref"]]
        if set(value) == {"Fn::GetAtt"}:
            return self.attributes[tuple(value["Fn::GetAtt"])]
        if set(value) == {"Fn::Sub"}:
            return re.sub(r"\$\{(!?)([^}]+)\}", self._substitute, value["Fn::Sub"])
        return {key: self.resolve(item) for key, item in value.items()}

    def _substitute(self, match: re.Match[str]) -> str:
        if match.group(1):  # ${!literal} stays ${literal}
            return "${" + match.group(2) + "}"
        name = match.group(2)
        if "." in name:
            return self.attributes[tuple(name.split(".", 1))]  # type: ignore[index]
        return self.names[name]


def _client(service: str, endpoint_url: str | None, region: str) -> Any:
    return boto3.client(service, endpoint_url=endpoint_url, region_name=region)


def _kms_key(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    key = clients("kms").create_key(Description=props["Description"], Policy=json.dumps(props["KeyPolicy"]))
    metadata = key["KeyMetadata"]
    if props.get("EnableKeyRotation"):
        clients("kms").enable_key_rotation(KeyId=metadata["KeyId"])
    return metadata["KeyId"], {"Arn": metadata["Arn"]}


def _kms_alias(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    clients("kms").create_alias(AliasName=props["AliasName"], TargetKeyId=props["TargetKeyId"])
    return props["AliasName"], {}


def _bucket(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    s3, name = clients("s3"), props["BucketName"]
    s3.create_bucket(Bucket=name)
    rules = [{"ApplyServerSideEncryptionByDefault": rule["ServerSideEncryptionByDefault"],
              "BucketKeyEnabled": rule["BucketKeyEnabled"]}
             for rule in props["BucketEncryption"]["ServerSideEncryptionConfiguration"]]
    s3.put_bucket_encryption(Bucket=name, ServerSideEncryptionConfiguration={"Rules": rules})
    s3.put_public_access_block(Bucket=name, PublicAccessBlockConfiguration=props["PublicAccessBlockConfiguration"])
    if "VersioningConfiguration" in props:
        s3.put_bucket_versioning(Bucket=name, VersioningConfiguration=props["VersioningConfiguration"])
    if "NotificationConfiguration" in props:
        s3.put_bucket_notification_configuration(Bucket=name, NotificationConfiguration={"QueueConfigurations": [
            {"QueueArn": rule["Queue"], "Events": [rule["Event"]],
             "Filter": {"Key": {"FilterRules": rule["Filter"]["S3Key"]["Rules"]}}}
            for rule in props["NotificationConfiguration"]["QueueConfigurations"]]})
    if "CorsConfiguration" in props:
        renamed = {"ExposedHeaders": "ExposeHeaders", "MaxAge": "MaxAgeSeconds"}
        rules = [{renamed.get(key, key): value for key, value in rule.items()}
                 for rule in props["CorsConfiguration"]["CorsRules"]]
        s3.put_bucket_cors(Bucket=name, CORSConfiguration={"CORSRules": rules})
    return name, {"Arn": f"arn:aws:s3:::{name}"}


def _user_pool(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    args = {key: value for key, value in props.items() if key not in ("UserPoolName", "EnabledMfas")}
    pool = clients("cognito-idp").create_user_pool(PoolName=props["UserPoolName"], **args)["UserPool"]
    return pool["Id"], {"Arn": pool["Arn"]}


def _user_pool_client(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    client = clients("cognito-idp").create_user_pool_client(**props)["UserPoolClient"]
    return client["ClientId"], {}


def _user_pool_group(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    clients("cognito-idp").create_group(**props)
    return props["GroupName"], {}


def _table(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    ddb, name, sse = clients("dynamodb"), props["TableName"], props["SSESpecification"]
    table = ddb.create_table(
        TableName=name, BillingMode=props["BillingMode"], AttributeDefinitions=props["AttributeDefinitions"],
        KeySchema=props["KeySchema"], GlobalSecondaryIndexes=props["GlobalSecondaryIndexes"],
        SSESpecification={"Enabled": sse["SSEEnabled"], "SSEType": sse["SSEType"],
                          "KMSMasterKeyId": sse["KMSMasterKeyId"]})["TableDescription"]
    ddb.update_time_to_live(TableName=name, TimeToLiveSpecification=props["TimeToLiveSpecification"])
    ddb.update_continuous_backups(TableName=name,
                                  PointInTimeRecoverySpecification=props["PointInTimeRecoverySpecification"])
    return name, {"Arn": table["TableArn"]}


def _queue(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    sqs = clients("sqs")
    attributes = {key: json.dumps(value) if isinstance(value, dict) else str(value).lower()
                  if isinstance(value, bool) else str(value)
                  for key, value in props.items() if key != "QueueName"}
    url = sqs.create_queue(QueueName=props["QueueName"], Attributes=attributes)["QueueUrl"]
    arn = sqs.get_queue_attributes(QueueUrl=url, AttributeNames=["QueueArn"])["Attributes"]["QueueArn"]
    return url, {"Arn": arn, "QueueName": props["QueueName"]}


def _queue_policy(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    for url in props["Queues"]:
        clients("sqs").set_queue_attributes(QueueUrl=url, Attributes={"Policy": json.dumps(props["PolicyDocument"])})
    return props["Queues"][0], {}


def _glue_database(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    clients("glue").create_database(DatabaseInput=props["DatabaseInput"])
    return props["DatabaseInput"]["Name"], {}


def _glue_table(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    clients("glue").create_table(DatabaseName=props["DatabaseName"], TableInput=props["TableInput"])
    return props["TableInput"]["Name"], {}


def _workgroup(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    clients("athena").create_work_group(Name=props["Name"], Description=props["Description"],
                                        Configuration=props["WorkGroupConfiguration"])
    return props["Name"], {}


def _email_identity(clients: Clients, props: dict[str, Any]) -> tuple[str, dict[str, str]]:
    # In the cloud SES mails a link to verify the address; moto verifies it at once.
    clients("ses").verify_email_identity(EmailAddress=props["EmailIdentity"])
    return props["EmailIdentity"], {}


LOCAL_RESOURCES: dict[str, Callable[[Clients, dict[str, Any]], tuple[str, dict[str, str]]]] = {
    "AWS::KMS::Key": _kms_key,
    "AWS::KMS::Alias": _kms_alias,
    "AWS::S3::Bucket": _bucket,
    "AWS::Cognito::UserPool": _user_pool,
    "AWS::Cognito::UserPoolClient": _user_pool_client,
    "AWS::Cognito::UserPoolGroup": _user_pool_group,
    "AWS::DynamoDB::Table": _table,
    "AWS::SQS::Queue": _queue,
    "AWS::SQS::QueuePolicy": _queue_policy,
    "AWS::Glue::Database": _glue_database,
    "AWS::Glue::Table": _glue_table,
    "AWS::Athena::WorkGroup": _workgroup,
    "AWS::SES::EmailIdentity": _email_identity,
}


class Clients:
    """boto3 clients for one endpoint, made on first use."""

    def __init__(self, endpoint_url: str | None, region: str) -> None:
        self.endpoint_url, self.region = endpoint_url, region
        self._made: dict[str, Any] = {}

    def __call__(self, service: str) -> Any:
        if service not in self._made:
            self._made[service] = _client(service, self.endpoint_url, self.region)
        return self._made[service]


def load_template() -> dict[str, Any]:
    return json.loads(TEMPLATE_PATH.read_text())


def provision(endpoint_url: str | None, region: str, parameters: dict[str, str] | None = None) -> dict[str, str]:
    """Create every local resource of the template; return the environment the API and worker need.

    ``endpoint_url`` is moto's server (``make run``) or ``None`` inside ``mock_aws()`` (tests).
    The environment is the template's own ``APIHandler`` variables, resolved to local names.
    """
    template = Template(load_template(), {**LOCAL_PARAMETERS, **(parameters or {})}, region)
    clients = Clients(endpoint_url, region)
    for logical_id, resource_type, raw_props in template.resources():
        if resource_type in CLOUD_ONLY:
            continue
        ref, attributes = LOCAL_RESOURCES[resource_type](clients, template.resolve(raw_props))
        template.created(logical_id, ref, **attributes)
    variables = template.document["Resources"]["APIHandler"]["Properties"]["Environment"]["Variables"]
    env = {name: str(template.resolve(value)) for name, value in variables.items()}
    env.update({"AWS_REGION": region, "SL_STAGE": "dev"})
    if endpoint_url:
        env["AWS_ENDPOINT_URL"] = endpoint_url
    return env
