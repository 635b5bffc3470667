"""The local event pump: long-polls SQS queues in the embedded AWS and hands each batch to the same
handler function Lambda would call, as a Lambda-shaped SQS event. A message is deleted only when its
handler succeeds; failures are redelivered and, after the queue's maxReceiveCount, land in the DLQ."""
from __future__ import annotations

import threading
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from chalicelib import logs

Handler = Callable[[dict[str, Any], Any], Any]


@dataclass(frozen=True)
class Route:
    name: str
    queue_url: str
    handler: Handler


@dataclass(frozen=True)
class Schedule:
    """A message put on a queue every ``every_seconds``: what an EventBridge schedule rule does in AWS."""

    name: str
    queue_url: str
    body: str
    every_seconds: float


def lambda_sqs_event(queue_url: str, messages: list[dict[str, Any]]) -> dict[str, Any]:
    arn_tail = queue_url.rstrip("/").rsplit("/", 2)
    return {"Records": [{
        "messageId": m["MessageId"], "receiptHandle": m["ReceiptHandle"], "body": m["Body"],
        "attributes": m.get("Attributes", {}), "messageAttributes": m.get("MessageAttributes", {}),
        "eventSource": "aws:sqs", "eventSourceARN": f"arn:aws:sqs:local:{arn_tail[-2]}:{arn_tail[-1]}",
    } for m in messages]}


class EventPump:
    """One daemon thread per route; ``stop()`` ends them after their current poll."""

    def __init__(self, sqs: Any, routes: list[Route], wait_seconds: int = 1,
                 schedules: list[Schedule] | None = None) -> None:
        self._sqs = sqs
        self._routes = routes
        self._schedules = schedules or []
        self._wait = wait_seconds
        self._stopping = threading.Event()
        self._threads: list[threading.Thread] = []
        self.delivered = 0

    def start(self) -> None:
        for route in self._routes:
            thread = threading.Thread(target=self._run, args=(route,), name=f"pump-{route.name}", daemon=True)
            thread.start()
            self._threads.append(thread)
        for schedule in self._schedules:
            thread = threading.Thread(target=self._tick, args=(schedule,), name=f"schedule-{schedule.name}",
                                      daemon=True)
            thread.start()
            self._threads.append(thread)

    def _tick(self, schedule: Schedule) -> None:
        while not self._stopping.wait(schedule.every_seconds):
            try:
                self._sqs.send_message(QueueUrl=schedule.queue_url, MessageBody=schedule.body)
            except Exception:
                logs.logger.exception("scheduled message not sent", extra={"schedule": schedule.name})

    def stop(self) -> None:
        self._stopping.set()
        for thread in self._threads:
            thread.join(timeout=self._wait + 5)

    def _run(self, route: Route) -> None:
        while not self._stopping.is_set():
            try:
                self.pump_once(route)
            except Exception:  # the pump must outlive any one bad message or a restarting backend
                logs.logger.exception("event pump error", extra={"route": route.name})
                self._stopping.wait(1)

    def pump_once(self, route: Route) -> int:
        """Receive one batch and deliver it; returns how many messages were handled successfully."""
        messages = self._sqs.receive_message(QueueUrl=route.queue_url, MaxNumberOfMessages=10,
                                             WaitTimeSeconds=self._wait, AttributeNames=["All"],
                                             MessageAttributeNames=["All"]).get("Messages", [])
        handled = 0
        for message in messages:
            try:
                result = route.handler(lambda_sqs_event(route.queue_url, [message]), None)
            except Exception:
                logs.logger.exception("handler failed; message will be retried", extra={"route": route.name})
                continue
            if isinstance(result, dict) and result.get("batchItemFailures"):
                continue  # reported as failed: leave it for redelivery, as Lambda would
            self._sqs.delete_message(QueueUrl=route.queue_url, ReceiptHandle=message["ReceiptHandle"])
            handled += 1
        self.delivered += handled
        return handled
