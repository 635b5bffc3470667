"""The errors users can cause, each with its HTTP status and a message that says what to fix."""
from __future__ import annotations

from typing import Any

from chalice import ChaliceUnhandledError


class SalesLensError(ChaliceUnhandledError):
    """Base of every user-facing error; the HTTP middleware turns it into a response.

    It derives from ``ChaliceUnhandledError`` so Chalice lets it reach the middleware.
    """

    status = 400
    code = "bad_request"
    default_message = "The request could not be processed."

    def __init__(self, message: str | None = None, details: list[dict[str, Any]] | None = None,
                 code: str | None = None) -> None:
        super().__init__(message or self.default_message)
        self.message = message or self.default_message
        self.details = details or []
        if code:
            self.code = code

    def body(self) -> dict[str, Any]:
        return {"error": {"code": self.code, "message": self.message, "details": self.details}}


class BadJson(SalesLensError):
    code = "bad_json"
    default_message = "The request body is not valid JSON. Send a JSON object with Content-Type: application/json."


class ValidationFailed(SalesLensError):
    code = "validation_error"
    default_message = "Some fields are missing or invalid; see details."


class Unauthorized(SalesLensError):
    status = 401
    code = "unauthorized"
    default_message = "Sign in again: the access token is missing, invalid or expired."


class BadCredentials(SalesLensError):
    status = 401
    code = "not_authorized"
    default_message = "Wrong email or password."


class Forbidden(SalesLensError):
    status = 403
    code = "forbidden"
    default_message = "Your role does not allow this action. Ask an owner or admin."


class NotConfirmed(SalesLensError):
    status = 403
    code = "not_confirmed"
    default_message = "Confirm your email first: enter the code we sent you, or ask for a new one."


class NoTenant(SalesLensError):
    status = 403
    code = "no_tenant"
    default_message = "Your login is not a member of any company."


class NotFound(SalesLensError):
    status = 404
    code = "not_found"
    default_message = "Not found."


class MethodNotAllowed(SalesLensError):
    status = 405
    code = "method_not_allowed"
    default_message = "This route does not accept that method."


class Conflict(SalesLensError):
    status = 409
    code = "conflict"
    default_message = "The request conflicts with the current state."


class LastOwner(Conflict):
    code = "last_owner"
    default_message = "A company needs at least one owner: make another member an owner first."


class TooManyRequests(SalesLensError):
    status = 429
    code = "too_many_requests"
    default_message = "Too many attempts. Wait a few minutes and try again."


class UnsupportedFile(SalesLensError):
    status = 415
    code = "unsupported_file"
    default_message = ("This file type cannot be read. Upload CSV, TSV, Excel (.xlsx), JSON Lines, Parquet, "
                       "or one of these compressed as .gz or .zip.")


class FileTooLarge(SalesLensError):
    status = 413
    code = "file_too_large"
    default_message = "The file is over the size limit. Split it, or compress it as .gz or .zip."


class BodyTooLarge(SalesLensError):
    status = 413
    code = "body_too_large"
    default_message = "The request body is too large for this route."


class UnreadableFile(SalesLensError):
    status = 422
    code = "unreadable_file"
    default_message = "The file could not be read as a table. Check that it has a header row and data rows."


# -- the webhook door ------------------------------------------------------------------
class BadSignature(Unauthorized):
    code = "bad_signature"
    default_message = "The webhook signature could not be verified."


class MissingIdempotencyKey(SalesLensError):
    code = "missing_idempotency_key"
    default_message = ("Send an Idempotency-Key header (a unique id per delivery, reused on retries), "
                       "so a retried delivery is never counted twice.")


class IdempotencyConflict(Conflict):
    code = "idempotency_conflict"
    default_message = ("This Idempotency-Key was already used with a different body. "
                       "Use a new key for a new delivery; reuse a key only to retry the same body.")


class DeliveryInProgress(Conflict):
    code = "delivery_in_progress"
    default_message = "A delivery with this Idempotency-Key is still being processed. Retry in a minute."


class TooManyRecords(FileTooLarge):
    code = "too_many_records"
    default_message = "Send at most 1000 records per call; split the batch into several calls."


class InvalidRecords(SalesLensError):
    status = 422
    code = "invalid_records"
    default_message = "Some records are invalid; none of this batch was accepted. Fix the records in details."


class UnsupportedTopic(SalesLensError):
    status = 422
    code = "unsupported_topic"
    default_message = ("This Shopify topic is not accepted. Subscribe orders/paid (or orders/create), "
                       "orders/cancelled and refunds/create.")


class TooManyKeys(Conflict):
    code = "too_many_webhook_keys"
    default_message = "Your company has reached the limit of webhook keys. Revoke one you no longer use."
