"""The bodies the report routes take, bounded field by field; semantic checks (members, time zones, URLs) live
with the things they check (``schedules.validate``, ``alert_store.check_settings``)."""
from __future__ import annotations

from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, field_validator

from chalicelib.query.explore_model import Condition, DateRange, Filters
from chalicelib.reports.sections import SECTIONS

Section = Literal[SECTIONS]  # type: ignore[valid-type]
Address = Annotated[str, StringConstraints(strip_whitespace=True, max_length=254)]
FieldName = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=64)]
Value = Annotated[str, StringConstraints(max_length=200)]
Values = Annotated[list[Value], Field(min_length=1, max_length=1000)]


class Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class ReportRequest(Body):
    """``POST /reports``: the period (a preset or dates, as in Explore), Explore filters, sections in order."""

    period: DateRange = Field(default_factory=lambda: DateRange(preset="last_30_days"))
    filters: list[Condition] = Field(default_factory=list, max_length=20)
    sections: list[Section] = Field(default_factory=lambda: list(SECTIONS), min_length=1, max_length=len(SECTIONS))
    title: Annotated[str, StringConstraints(strip_whitespace=True, max_length=120)] = ""

    @field_validator("filters")
    @classmethod
    def _distinct_fields(cls, conditions: list[Condition]) -> list[Condition]:
        return Filters._distinct_fields(conditions)  # the same rule as Explore's


class ScheduleRequest(Body):
    """``POST /report-schedules`` and ``PUT /report-schedules/{id}``."""

    name: Annotated[str, StringConstraints(max_length=200)]
    frequency: Literal["weekly", "monthly"]
    weekday: int | None = Field(default=None, ge=0, le=6, description="0 = Monday; weekly schedules")
    day: int | Literal["last"] | None = Field(default=None, description="1..28 or 'last'; monthly schedules")
    hour: int = Field(ge=0, le=23)
    timezone: Annotated[str, StringConstraints(max_length=64)]
    recipients: list[Address] = Field(max_length=50)  # none: schedules.validate says what to do
    sections: list[Annotated[str, StringConstraints(max_length=32)]] = Field(
        default_factory=lambda: list(SECTIONS), max_length=20)
    filters: dict[FieldName, Values] = Field(default_factory=dict, max_length=20,
                                             description='{"category": ["Bikes"]}: keep only these sales')
    enabled: bool = True


class AlertRulesBody(Body):
    min_severity: Literal["low", "medium", "high"] = "medium"
    anomalies: bool = True
    forecast_miss: bool = True
    churn_jump: bool = True
    churn_jump_share: float = Field(default=0.2, gt=0, le=10)
    churn_jump_min: int = Field(default=3, ge=1, le=100_000)
    lookback_days: int = Field(default=7, ge=1, le=90)


class AlertSettingsRequest(Body):
    """``PUT /alert-settings``: who hears about what. The webhook secret is made by SalesLens, never sent in."""

    enabled: bool = True
    rules: AlertRulesBody = Field(default_factory=AlertRulesBody)
    email_to: list[Address] = Field(default_factory=list, max_length=50)
    webhook_url: Annotated[str, StringConstraints(strip_whitespace=True, max_length=2048)] = ""


class Unsubscribe(Body):
    token: Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]
