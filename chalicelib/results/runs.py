"""Analysis runs in DynamoDB: at most one running and one queued per tenant, with a lease for crashed workers.

Item layout (pk / sk), in the tenant's partition:
  TENANT#<tid> / RUN#<run_id>    one run: status, progress, steps, artifacts, the batches it covers
  TENANT#<tid> / RUNSTATE        queued_run_id, running_run_id, lease_until, version (optimistic lock)
  TENANT#<tid> / LATESTRUN       the run whose results users see; written last, only ever moves forward

Every change of RUNSTATE is a put conditioned on the version that was read, in one transaction with the
run items it concerns, so two requests racing each other cannot both create a queued run, and two workers
cannot both start one. ``steps``, ``error`` and ``artifacts`` are JSON text (they hold floats, which
DynamoDB's serializer refuses); ``batches`` is a native list so a coalesced trigger can append atomically.
"""
from __future__ import annotations

import json
import secrets
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from typing import Any

from botocore.exceptions import ClientError

from chalicelib import errors, logs
from chalicelib.tenancy.store import from_item, get_item, is_conditional_failure, query_items, tenant_pk, to_item

QUEUED, RUNNING, SUCCEEDED, FAILED = "queued", "running", "succeeded", "failed"
STATUSES = (QUEUED, RUNNING, SUCCEEDED, FAILED)
TRIGGERS = ("ingest", "schedule", "manual")
STEP_STATUSES = ("pending", "running", "done", "skipped", "failed")
_JSON_FIELDS = ("steps", "error", "artifacts")
_INT_FIELDS = ("progress", "attempts")
_STATE_SK, _LATEST_SK = "RUNSTATE", "LATESTRUN"
_TRIES = 8  # optimistic-lock retries before giving up; only reached under a storm of triggers

WORKER_STOPPED = {"code": "worker_stopped",
                  "message": "The analysis stopped unexpectedly and was replaced by a newer run."}
NOT_QUEUED = {"code": "not_queued", "message": "The analysis could not be queued. Try again in a minute."}
DEFAULT_FAILURE = {"code": "analysis_failed",
                   "message": "The analysis failed; we have been notified. Your previous results stay available."}


def iso(moment: float) -> str:
    return datetime.fromtimestamp(moment, UTC).isoformat(timespec="seconds")


def new_run_id(now: float | None = None, prefix: str = "r") -> str:
    """Sorts by creation time (to the millisecond), then 8 random hex digits: ``r20261123T081500123a1b2c3d4``
    (reports use the same shape with ``p``)."""
    moment = datetime.fromtimestamp(time.time() if now is None else now, UTC)
    return f"{prefix}{moment:%Y%m%dT%H%M%S}{moment.microsecond // 1000:03d}{secrets.token_hex(4)}"


def _next_run_id(last: str, now: float) -> str:
    """A run id after ``last``: ids decide "newest first" and which run may be published over which."""
    try:
        seconds = datetime.strptime(last[1:16], "%Y%m%dT%H%M%S").replace(tzinfo=UTC).timestamp()
        last_seconds = seconds + int(last[16:19]) / 1000
    except ValueError:
        return new_run_id(now)
    return new_run_id(max(now, last_seconds + 0.0015))  # mid-millisecond: clear of float rounding


@dataclass
class Run:
    tenant_id: str
    run_id: str
    status: str                      # queued | running | succeeded | failed
    trigger: str                     # ingest | schedule | manual
    reason: str = ""
    created_at: str = field(default_factory=lambda: iso(time.time()))
    started_at: str = ""
    finished_at: str = ""
    step: str = ""
    progress: int = 0                # 0..100 for the progress bar
    steps: list[dict] = field(default_factory=list)      # {name, status, seconds, reason, artifacts}
    error: dict = field(default_factory=dict)            # {code, message} a user can read, when failed
    batches: list[str] = field(default_factory=list)     # lake batch ids this run saw
    artifacts: list[dict] = field(default_factory=list)  # {artifact, rows, bytes} as written
    attempts: int = 0
    updated_at: str = ""

    def public(self) -> dict:
        """What the API shows: everything but the tenant id (the caller's own)."""
        return {k: v for k, v in asdict(self).items() if k != "tenant_id"}


def _run_item(run: Run) -> dict[str, Any]:
    values = asdict(run)
    for name in _JSON_FIELDS:
        values[name] = json.dumps(values[name])
    return {"pk": tenant_pk(run.tenant_id), "sk": f"RUN#{run.run_id}", **values}


def _run(item: dict[str, Any]) -> Run:
    values = {name: item[name] for name in Run.__dataclass_fields__ if name in item}
    for name in _JSON_FIELDS:
        if isinstance(values.get(name), str):
            values[name] = json.loads(values[name])
    for name in _INT_FIELDS:
        values[name] = int(values.get(name, 0))
    values["batches"] = [str(b) for b in values.get("batches") or []]
    return Run(**values)


class RunStore:
    """Runs of one table; ``clock`` (unix seconds) is injectable so tests can expire a lease."""

    def __init__(self, dynamodb: Any, table_name: str, clock: Callable[[], float] = time.time) -> None:
        self._db, self._table, self._clock = dynamodb, table_name, clock

    # -- requesting -------------------------------------------------------------------------------------
    def request(self, tenant_id: str, trigger: str, reason: str = "",
                batch_id: str | None = None) -> tuple[Run, bool]:
        """The queued run this trigger joins, or a new one; ``(run, created)``. The caller enqueues if created."""
        if trigger not in TRIGGERS:
            raise ValueError(f"unknown trigger {trigger!r}; expected one of {', '.join(TRIGGERS)}")
        for _ in range(_TRIES):
            state = self._state(tenant_id)
            if queued_id := state.get("queued_run_id"):
                if joined := self._join(tenant_id, queued_id, batch_id):
                    return joined, False
                self._drop_stale_queued(tenant_id, state, queued_id)
                continue
            now = self._clock()
            run = Run(tenant_id, _next_run_id(state.get("last_run_id", ""), now), QUEUED, trigger, reason,
                      created_at=iso(now), batches=[batch_id] if batch_id else [], updated_at=iso(now))
            if self._transact([self._state_put(tenant_id, state, queued_run_id=run.run_id, last_run_id=run.run_id),
                               {"Put": {"TableName": self._table, "Item": to_item(_run_item(run)),
                                        "ConditionExpression": "attribute_not_exists(pk)"}}]):
                return run, True
        raise errors.Conflict("Too many analysis requests at once. Try again in a moment.")

    def _join(self, tenant_id: str, run_id: str, batch_id: str | None) -> Run | None:
        """Coalesce into the queued run, atomically with it still being queued (so it will see the batch)."""
        values: dict[str, Any] = {":queued": QUEUED, ":now": iso(self._clock())}
        update, condition = "SET updated_at = :now", "#s = :queued"
        if batch_id:
            update += ", batches = list_append(if_not_exists(batches, :none), :batch)"
            condition += " AND NOT contains(batches, :batch_id)"
            values.update({":none": [], ":batch": [batch_id], ":batch_id": batch_id})
        try:
            item = self._db.update_item(TableName=self._table, Key=self._key(tenant_id, f"RUN#{run_id}"),
                                        UpdateExpression=update, ConditionExpression=condition,
                                        ExpressionAttributeNames={"#s": "status"},
                                        ExpressionAttributeValues=to_item(values), ReturnValues="ALL_NEW")
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            run = self.get(tenant_id, run_id)  # already holding this batch, or no longer queued
            return run if run and run.status == QUEUED else None
        return _run(from_item(item["Attributes"]))

    def _drop_stale_queued(self, tenant_id: str, state: dict[str, Any], run_id: str) -> None:
        """RUNSTATE names a queued run that is gone or no longer queued: forget it rather than wedge the tenant."""
        run = self.get(tenant_id, run_id)
        if run is None or run.status != QUEUED:
            self._transact([self._state_put(tenant_id, state, queued_run_id=None)])

    def abandon(self, tenant_id: str, run_id: str, error: dict | None = None) -> None:
        """A queued run whose message could not be sent: fail it so later triggers create a fresh one."""
        for _ in range(_TRIES):
            state = self._state(tenant_id)
            ops = [self._run_update(tenant_id, run_id, {"status": FAILED, "error": error or NOT_QUEUED,
                                                        "finished_at": iso(self._clock())}, only_if=QUEUED)]
            if state.get("queued_run_id") == run_id:
                ops.append(self._state_put(tenant_id, state, queued_run_id=None))
            if self._transact(ops):
                return

    # -- running ----------------------------------------------------------------------------------------
    def start(self, tenant_id: str, run_id: str, lease_seconds: int = 1800) -> Run | None:
        """Take the tenant's lease for this run; None if another run holds a live lease (retry later)."""
        for _ in range(_TRIES):
            now = self._clock()
            state = self._state(tenant_id)
            run = self.get(tenant_id, run_id)
            if run is None or run.status in (SUCCEEDED, FAILED):
                return None
            holder = state.get("running_run_id")
            if holder and int(state.get("lease_until", 0)) > now:
                return None
            ops = []
            if holder and holder != run_id and (stale := self.get(tenant_id, holder)) and stale.status == RUNNING:
                logs.logger.warning("analysis lease expired; run replaced", extra={"stale_run": holder,
                                                                                    "run_id": run_id})
                ops.append(self._run_update(tenant_id, holder, {"status": FAILED, "error": WORKER_STOPPED,
                                                                "finished_at": iso(now), "step": ""}, only_if=RUNNING))
            queued = state.get("queued_run_id")
            ops.append(self._state_put(tenant_id, state, running_run_id=run_id, lease_until=int(now + lease_seconds),
                                       lease_seconds=int(lease_seconds), queued_run_id=None if queued == run_id
                                       else queued))
            ops.append(self._run_update(tenant_id, run_id, {"status": RUNNING, "started_at": iso(now),
                                                            "finished_at": "", "step": "", "progress": 0,
                                                            "error": {}}, only_if=run.status, add_attempt=True))
            if self._transact(ops):
                return self.get(tenant_id, run_id)
        return None

    def update(self, run: Run) -> None:
        """Persist progress after a step, and renew the lease: a long run is alive as long as it reports."""
        self._db.update_item(**self._run_update(run.tenant_id, run.run_id, {
            "step": run.step, "progress": int(run.progress), "steps": run.steps, "artifacts": run.artifacts,
            "error": run.error})["Update"])
        state = self._state(run.tenant_id)
        if state.get("running_run_id") != run.run_id:
            logs.logger.warning("analysis run no longer holds the lease", extra={"run_id": run.run_id})
            return
        lease = int(state.get("lease_seconds", 1800))
        self._transact([self._state_put(run.tenant_id, state, lease_until=int(self._clock() + lease))])

    def finish(self, run: Run, status: str, error: dict | None = None) -> Run | None:
        """Record the end and release the lease; returns the queued run waiting behind it, for the worker to send."""
        if status not in (SUCCEEDED, FAILED):
            raise ValueError(f"a run finishes as {SUCCEEDED} or {FAILED}, not {status!r}")
        run.status, run.finished_at, run.step = status, iso(self._clock()), ""
        if status == SUCCEEDED:
            run.progress, run.error = 100, {}
        else:
            run.error = error or run.error or DEFAULT_FAILURE
        changes = {"status": run.status, "finished_at": run.finished_at, "step": "", "progress": int(run.progress),
                   "steps": run.steps, "artifacts": run.artifacts, "error": run.error}
        follower_id = None
        for _ in range(_TRIES):
            state = self._state(run.tenant_id)
            release: dict[str, Any] = {}
            if state.get("running_run_id") == run.run_id:  # not if a newer run took the expired lease over
                release.update(running_run_id=None, lease_until=None)
            if state.get("queued_run_id") == run.run_id:   # failed before it ever started
                release["queued_run_id"] = None
            follower_id = state.get("queued_run_id") if "queued_run_id" not in release else None
            ops = [self._run_update(run.tenant_id, run.run_id, changes)]
            if release:
                ops.append(self._state_put(run.tenant_id, state, **release))
            if self._transact(ops):
                break
        follower = self.get(run.tenant_id, follower_id) if follower_id else None
        return follower if follower and follower.status == QUEUED else None

    # -- publishing and reading ---------------------------------------------------------------------------
    def publish_latest(self, tenant_id: str, run_id: str) -> None:
        """Point users at this run's results; never back to an older run (a slow worker finishing late)."""
        item = {"pk": tenant_pk(tenant_id), "sk": _LATEST_SK, "run_id": run_id, "published_at": iso(self._clock())}
        try:
            self._db.put_item(TableName=self._table, Item=to_item(item),
                              ConditionExpression="attribute_not_exists(pk) OR run_id <= :run",
                              ExpressionAttributeValues=to_item({":run": run_id}))
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            logs.logger.info("a newer run is already published", extra={"run_id": run_id})

    def latest(self, tenant_id: str) -> str | None:
        item = get_item(self._db, self._table, tenant_pk(tenant_id), _LATEST_SK)
        return str(item["run_id"]) if item else None

    def get(self, tenant_id: str, run_id: str) -> Run | None:
        item = get_item(self._db, self._table, tenant_pk(tenant_id), f"RUN#{run_id}")
        return _run(item) if item else None

    def list(self, tenant_id: str, limit: int = 20) -> list[Run]:
        """Newest first (run ids sort by time)."""
        items = query_items(self._db, self._table, tenant_pk(tenant_id), "RUN#", newest_first=True, limit=limit)
        return [_run(item) for item in items]

    def active(self, tenant_id: str) -> list[Run]:
        """The running run, then the queued one, for the portal's progress bar."""
        state = self._state(tenant_id)
        ids = [state.get("running_run_id"), state.get("queued_run_id")]
        return [run for run_id in ids if run_id and (run := self.get(tenant_id, run_id))
                and run.status in (QUEUED, RUNNING)]

    # -- plumbing -----------------------------------------------------------------------------------------
    def _key(self, tenant_id: str, sk: str) -> dict[str, Any]:
        return to_item({"pk": tenant_pk(tenant_id), "sk": sk})

    def _state(self, tenant_id: str) -> dict[str, Any]:
        return get_item(self._db, self._table, tenant_pk(tenant_id), _STATE_SK) or {}

    def _state_put(self, tenant_id: str, state: dict[str, Any], **changes: Any) -> dict[str, Any]:
        """The next RUNSTATE, written only if nobody changed it since ``state`` was read (None removes a field)."""
        version = int(state.get("version", 0))
        item = {**state, **changes, "pk": tenant_pk(tenant_id), "sk": _STATE_SK, "version": version + 1}
        put: dict[str, Any] = {"TableName": self._table, "Item": to_item(item)}
        if version:
            put.update(ConditionExpression="version = :v", ExpressionAttributeValues=to_item({":v": version}))
        else:
            put["ConditionExpression"] = "attribute_not_exists(pk)"
        return {"Put": put}

    def _run_update(self, tenant_id: str, run_id: str, changes: dict[str, Any], only_if: str | None = None,
                    add_attempt: bool = False) -> dict[str, Any]:
        """An update of some fields of an existing run, optionally only while it has status ``only_if``."""
        changes = {**changes, "updated_at": iso(self._clock())}
        names = {f"#{k}": k for k in changes}
        values = {f":{k}": json.dumps(v) if k in _JSON_FIELDS else v for k, v in changes.items()}
        update = "SET " + ", ".join(f"#{k} = :{k}" for k in changes)
        if add_attempt:
            update += " ADD attempts :one"
            values[":one"] = 1
        condition = "attribute_exists(pk)"
        if only_if:
            names["#only_status"], values[":only_status"] = "status", only_if
            condition += " AND #only_status = :only_status"
        return {"Update": {"TableName": self._table, "Key": self._key(tenant_id, f"RUN#{run_id}"),
                           "UpdateExpression": update, "ConditionExpression": condition,
                           "ExpressionAttributeNames": names, "ExpressionAttributeValues": to_item(values)}}

    def _transact(self, ops: list[dict[str, Any]]) -> bool:
        """Apply all or none; False when a condition failed (the caller re-reads and decides again)."""
        try:
            if len(ops) == 1 and "Put" in ops[0]:
                self._db.put_item(**ops[0]["Put"])
            elif len(ops) == 1:
                self._db.update_item(**ops[0]["Update"])
            else:
                self._db.transact_write_items(TransactItems=ops)
        except ClientError as exc:
            if not is_conditional_failure(exc):
                raise
            return False
        return True

