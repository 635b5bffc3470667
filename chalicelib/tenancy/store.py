"""DynamoDB persistence for tenants, members and invitations (one table, one partition per tenant).

Item layout (pk / sk):
  TENANT#<tid> / META                 the company
  TENANT#<tid> / MEMBER#<uid>         a member with role, email, name, signed_out_at
  TENANT#<tid> / INVITE#<iid>         a pending invitation (secret stored as a SHA-256 hash)
  TENANT#<tid> / PREFS#<uid>          a member's portal preferences (removed with the member)
  TENANT#<tid> / FEEDBACK#<at>#<id>   feedback sent from the portal (see tenancy.feedback)
  TENANT#<tid> / AUDIT#<at>#<id>      audit events (see tenancy.audit)
  USER#<uid>   / TENANT               pointer from a login to its company, read by the authorizer
"""
from __future__ import annotations

import time
from collections.abc import Iterator
from dataclasses import asdict, dataclass
from typing import Any

from boto3.dynamodb.types import TypeDeserializer, TypeSerializer
from botocore.exceptions import ClientError

_SER = TypeSerializer()
_DESER = TypeDeserializer()


def tenant_pk(tenant_id: str) -> str:
    return f"TENANT#{tenant_id}"


def user_pk(user_id: str) -> str:
    return f"USER#{user_id}"


def to_item(values: dict[str, Any]) -> dict[str, Any]:
    return {k: _SER.serialize(v) for k, v in values.items() if v is not None}


def from_item(item: dict[str, Any]) -> dict[str, Any]:
    return {k: _DESER.deserialize(v) for k, v in item.items()}


@dataclass(frozen=True)
class Tenant:
    tenant_id: str
    name: str
    created_at: str
    created_by: str


@dataclass(frozen=True)
class Member:
    tenant_id: str
    user_id: str
    email: str
    name: str
    role: str
    joined_at: str
    signed_out_at: int = 0

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("signed_out_at", "tenant_id")}


@dataclass(frozen=True)
class Invitation:
    tenant_id: str
    invitation_id: str
    email: str
    role: str
    secret_hash: str
    invited_by: str
    created_at: str
    expires_at: int

    def public(self) -> dict[str, Any]:
        return {k: v for k, v in asdict(self).items() if k not in ("secret_hash", "tenant_id")}


def _member(values: dict[str, Any]) -> Member:
    return Member(tenant_id=values["tenant_id"], user_id=values["user_id"], email=values["email"],
                  name=values.get("name", ""), role=values["role"], joined_at=values["joined_at"],
                  signed_out_at=int(values.get("signed_out_at", 0)))


class TenantStore:
    """Reads and writes tenancy items; every method is scoped by an explicit tenant id."""

    def __init__(self, dynamodb: Any, table_name: str) -> None:
        self._db = dynamodb
        self._table = table_name

    # -- tenants --------------------------------------------------------------------------
    def create_tenant_with_owner(self, tenant: Tenant, owner: Member) -> None:
        meta = {"pk": tenant_pk(tenant.tenant_id), "sk": "META", **asdict(tenant)}
        self._db.transact_write_items(TransactItems=[
            {"Put": {"TableName": self._table, "Item": to_item(meta),
                     "ConditionExpression": "attribute_not_exists(pk)"}},
            *self._member_puts(owner),
        ])

    def get_tenant(self, tenant_id: str) -> Tenant | None:
        item = self._get(tenant_pk(tenant_id), "META")
        if item is None:
            return None
        return Tenant(tenant_id=item["tenant_id"], name=item["name"], created_at=item["created_at"],
                      created_by=item.get("created_by", ""))

    def rename_tenant(self, tenant_id: str, name: str) -> None:
        self._db.update_item(TableName=self._table, Key=to_item({"pk": tenant_pk(tenant_id), "sk": "META"}),
                             UpdateExpression="SET #n = :n", ExpressionAttributeNames={"#n": "name"},
                             ExpressionAttributeValues=to_item({":n": name}),
                             ConditionExpression="attribute_exists(pk)")

    def tenant_items(self, tenant_id: str) -> Iterator[dict[str, Any]]:
        """Every item in the tenant's partition (for export and deletion)."""
        yield from self._query(tenant_pk(tenant_id))

    def delete_keys(self, keys: list[tuple[str, str]]) -> None:
        for start in range(0, len(keys), 25):
            requests = [{"DeleteRequest": {"Key": to_item({"pk": pk, "sk": sk})}}
                        for pk, sk in keys[start:start + 25]]
            pending: dict[str, Any] = {self._table: requests}
            while pending:
                pending = self._db.batch_write_item(RequestItems=pending).get("UnprocessedItems") or {}

    # -- members --------------------------------------------------------------------------
    def add_member(self, member: Member) -> None:
        self._db.transact_write_items(TransactItems=self._member_puts(member))

    def _member_puts(self, member: Member) -> list[dict[str, Any]]:
        record = {"pk": tenant_pk(member.tenant_id), "sk": f"MEMBER#{member.user_id}", **asdict(member)}
        pointer = {"pk": user_pk(member.user_id), "sk": "TENANT", "tenant_id": member.tenant_id}
        return [{"Put": {"TableName": self._table, "Item": to_item(record)}},
                {"Put": {"TableName": self._table, "Item": to_item(pointer),
                         "ConditionExpression": "attribute_not_exists(pk)"}}]

    def membership(self, user_id: str) -> Member | None:
        """The company a login belongs to, read consistently (the authorizer calls this)."""
        pointer = self._get(user_pk(user_id), "TENANT")
        return self.get_member(pointer["tenant_id"], user_id) if pointer else None

    def get_member(self, tenant_id: str, user_id: str) -> Member | None:
        item = self._get(tenant_pk(tenant_id), f"MEMBER#{user_id}")
        return _member(item) if item else None

    def list_members(self, tenant_id: str) -> list[Member]:
        """Members in the order they joined (the owner who signed up first)."""
        members = [_member(i) for i in self._query(tenant_pk(tenant_id), "MEMBER#")]
        return sorted(members, key=lambda member: (member.joined_at, member.email))

    def update_member(self, tenant_id: str, user_id: str, **changes: Any) -> None:
        names = {f"#{k}": k for k in changes}
        values = to_item({f":{k}": v for k, v in changes.items()})
        self._db.update_item(TableName=self._table,
                             Key=to_item({"pk": tenant_pk(tenant_id), "sk": f"MEMBER#{user_id}"}),
                             UpdateExpression="SET " + ", ".join(f"#{k} = :{k}" for k in changes),
                             ExpressionAttributeNames=names, ExpressionAttributeValues=values,
                             ConditionExpression="attribute_exists(pk)")

    def remove_member(self, tenant_id: str, user_id: str) -> None:
        """The member, their login's pointer and their preferences."""
        self.delete_keys([(tenant_pk(tenant_id), f"MEMBER#{user_id}"), (user_pk(user_id), "TENANT"),
                          (tenant_pk(tenant_id), f"PREFS#{user_id}")])

    def mark_signed_out(self, tenant_id: str, user_id: str) -> None:
        self.update_member(tenant_id, user_id, signed_out_at=int(time.time()))

    # -- invitations ----------------------------------------------------------------------
    def put_invitation(self, invitation: Invitation) -> None:
        item = {"pk": tenant_pk(invitation.tenant_id), "sk": f"INVITE#{invitation.invitation_id}",
                **asdict(invitation)}
        self._db.put_item(TableName=self._table, Item=to_item(item))

    def get_invitation(self, tenant_id: str, invitation_id: str) -> Invitation | None:
        item = self._get(tenant_pk(tenant_id), f"INVITE#{invitation_id}")
        if item is None:
            return None
        item["expires_at"] = int(item["expires_at"])
        return Invitation(**{k: item[k] for k in Invitation.__dataclass_fields__})

    def list_invitations(self, tenant_id: str) -> list[Invitation]:
        found = []
        for item in self._query(tenant_pk(tenant_id), "INVITE#"):
            item["expires_at"] = int(item["expires_at"])
            found.append(Invitation(**{k: item[k] for k in Invitation.__dataclass_fields__}))
        return found

    def delete_invitation(self, tenant_id: str, invitation_id: str) -> None:
        self.delete_keys([(tenant_pk(tenant_id), f"INVITE#{invitation_id}")])

    # -- preferences ----------------------------------------------------------------------
    def get_preferences(self, tenant_id: str, user_id: str) -> dict[str, Any] | None:
        item = self._get(tenant_pk(tenant_id), f"PREFS#{user_id}")
        return item.get("preferences") if item else None

    def put_preferences(self, tenant_id: str, user_id: str, preferences: dict[str, Any]) -> None:
        item = {"pk": tenant_pk(tenant_id), "sk": f"PREFS#{user_id}", "tenant_id": tenant_id, "user_id": user_id,
                "preferences": preferences, "updated_at": int(time.time())}
        self._db.put_item(TableName=self._table, Item=to_item(item))

    # -- plumbing -------------------------------------------------------------------------
    def _get(self, pk: str, sk: str) -> dict[str, Any] | None:
        return get_item(self._db, self._table, pk, sk)

    def _query(self, pk: str, sk_prefix: str = "") -> Iterator[dict[str, Any]]:
        return query_items(self._db, self._table, pk, sk_prefix)


def get_item(db: Any, table: str, pk: str, sk: str) -> dict[str, Any] | None:
    """One item, read consistently, as plain Python values."""
    item = db.get_item(TableName=table, Key=to_item({"pk": pk, "sk": sk}), ConsistentRead=True).get("Item")
    return from_item(item) if item else None


def query_items(db: Any, table: str, pk: str, sk_prefix: str = "", newest_first: bool = False,
                limit: int | None = None) -> Iterator[dict[str, Any]]:
    """Items of one partition whose sort key starts with ``sk_prefix``, read consistently."""
    kwargs: dict[str, Any] = {"TableName": table, "ConsistentRead": True, "KeyConditionExpression": "pk = :pk",
                              "ExpressionAttributeValues": to_item({":pk": pk}), "ScanIndexForward": not newest_first}
    if sk_prefix:
        kwargs["KeyConditionExpression"] += " AND begins_with(sk, :sk)"
        kwargs["ExpressionAttributeValues"].update(to_item({":sk": sk_prefix}))
    if limit:
        kwargs["PaginationConfig"] = {"MaxItems": limit}
    for page in db.get_paginator("query").paginate(**kwargs):
        for item in page.get("Items", []):
            yield from_item(item)


def is_conditional_failure(exc: ClientError) -> bool:
    code = exc.response.get("Error", {}).get("Code", "")
    return code in ("ConditionalCheckFailedException", "TransactionCanceledException")
