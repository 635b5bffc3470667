"""Request bodies, validated with pydantic so every field error comes back with its name."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, EmailStr, Field, StringConstraints

from chalicelib.ingest import limits
from chalicelib.tenancy import feedback

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
Email = Annotated[EmailStr, BeforeValidator(lambda v: v.strip().lower() if isinstance(v, str) else v)]
Password = Annotated[str, Field(min_length=1, max_length=256)]
Code = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Role = Annotated[str, StringConstraints(strip_whitespace=True, to_lower=True, max_length=32)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SignUp(Body):
    name: Text
    email: Email
    password: Password
    company: Text | None = None
    invitation: Annotated[str, StringConstraints(max_length=300)] | None = None


class EmailOnly(Body):
    email: Email


class Confirm(Body):
    email: Email
    code: Code


class Login(Body):
    email: Email
    password: Password


class Refresh(Body):
    refresh_token: Annotated[str, Field(min_length=1, max_length=8192)]


class ResetPassword(Body):
    email: Email
    code: Code
    password: Password


class ChangePassword(Body):
    old_password: Password
    new_password: Password


class Profile(Body):
    name: Text | None = None
    email: Email | None = None


class PasswordOnly(Body):
    password: Password


class TenantName(Body):
    name: Text


class DeleteTenant(Body):
    confirm: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)]


class Invite(Body):
    email: Email
    role: Role


class RoleChange(Body):
    role: Role


class FeedbackNote(Body):
    kind: Literal[feedback.KINDS]  # type: ignore[valid-type]
    message: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=4000)]
    page: Annotated[str, StringConstraints(strip_whitespace=True, max_length=200)] | None = Field(
        None, description="where in the portal it was sent from, e.g. /overview")


class NewUpload(Body):
    filename: str = Field(min_length=1, max_length=255)
    size: int = Field(ge=1, description="bytes")
    dataset: str = Field("transactions", max_length=64)


class MappingChoice(Body):
    columns: dict[Annotated[str, StringConstraints(max_length=64)],
                  Annotated[str, StringConstraints(max_length=limits.MAX_HEADER_CHARS)]] = Field(
        description="canonical column → the file's header", max_length=limits.MAX_COLUMNS)


Cell = Annotated[str, StringConstraints(max_length=limits.MAX_VALUE_CHARS)] | float | int | None


class ManualTransaction(Body):
    """One sale typed into the portal; the same cleaning rules as files apply."""

    ts: str = Field(min_length=1, max_length=64)
    order_id: Cell = None
    customer_id: Cell = None
    product_id: Cell = None
    product_name: Cell = None
    category: Cell = None
    quantity: Cell = None
    unit_price: Cell = None
    amount: Cell = None
    region: Cell = None
    channel: Cell = None
    currency: Cell = None
