"""Per-member display preferences for the portal: the model with its defaults, read and saved per member."""
from __future__ import annotations

from functools import cache
from typing import Annotated, Any, Literal
from zoneinfo import available_timezones

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator
from pydantic_core import PydanticCustomError

from chalicelib.auth.permissions import TenantContext
from chalicelib.query.explore_model import PRESETS, WEEK_STARTS
from chalicelib.tenancy.store import TenantStore

OVERVIEW_CARDS = ("revenue", "orders", "aov", "customers", "repeat_rate", "conversion", "new_customers", "units",
                  "return_rate")
DATE_FORMATS = ("iso", "dmy", "mdy", "long")  # 2026-12-04, 04/12/2026, 12/04/2026, 4 Dec 2026
NUMBER_LOCALES = ("auto", "en-GB", "en-US", "de-DE", "fr-FR", "es-ES", "it-IT", "nl-NL", "pt-BR", "sv-SE", "pl-PL",
                  "ja-JP")  # "auto": the browser's own
CURRENCY_DISPLAYS = ("symbol", "code", "name")
DEFAULT_RANGE = "last_90_days" if "last_90_days" in PRESETS else PRESETS[0]
MAX_CARDS = 20


@cache
def _timezones() -> dict[str, str]:
    """IANA names by their lower-case spelling, so "europe/berlin" is saved as "Europe/Berlin"."""
    return {name.lower(): name for name in available_timezones()}


def _canonical(choices: tuple[str, ...]) -> Any:
    """Accept any letter case (and surrounding spaces) and keep the spelling of ``choices``."""
    by_lower = {choice.lower(): choice for choice in choices}
    return BeforeValidator(lambda v: by_lower.get(v.strip().lower(), v) if isinstance(v, str) else v)


CardName = Annotated[Literal[OVERVIEW_CARDS], _canonical(OVERVIEW_CARDS)]  # type: ignore[valid-type]
DateFormat = Annotated[Literal[DATE_FORMATS], _canonical(DATE_FORMATS)]  # type: ignore[valid-type]
NumberLocale = Annotated[Literal[NUMBER_LOCALES], _canonical(NUMBER_LOCALES)]  # type: ignore[valid-type]
WeekStart = Annotated[Literal[WEEK_STARTS], _canonical(WEEK_STARTS)]  # type: ignore[valid-type]
Preset = Annotated[Literal[PRESETS], _canonical(PRESETS)]  # type: ignore[valid-type]
CurrencyDisplay = Annotated[Literal[CURRENCY_DISPLAYS], _canonical(CURRENCY_DISPLAYS)]  # type: ignore[valid-type]


class _Body(BaseModel):
    model_config = ConfigDict(extra="forbid")


class OverviewCard(_Body):
    card: CardName
    hidden: bool = False
    pinned: bool = False


def default_cards() -> list[OverviewCard]:
    return [OverviewCard(card=card) for card in OVERVIEW_CARDS]


class Preferences(_Body):
    """How the portal shows dates, numbers and the overview to one member; fields left out take their defaults."""

    timezone: str = Field("UTC", min_length=1, max_length=64, description="an IANA time zone, e.g. Europe/Berlin")
    date_format: DateFormat = "long"
    number_locale: NumberLocale = "auto"
    week_start: WeekStart = "monday"
    default_range: Preset = DEFAULT_RANGE
    currency_display: CurrencyDisplay = "symbol"
    overview_cards: list[OverviewCard] = Field(
        default_factory=default_cards, max_length=MAX_CARDS,
        description="in display order; cards left out are added at the end, shown")

    @field_validator("timezone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        name = _timezones().get(value.strip().lower())
        if name is None:
            raise PydanticCustomError("timezone", "'{value}' is not an IANA time zone; send a name such as "
                                                  "'Europe/Berlin', 'America/New_York' or 'UTC'",
                                      {"value": value[:64]})
        return name

    @field_validator("overview_cards")
    @classmethod
    def _each_card_once(cls, cards: list[OverviewCard]) -> list[OverviewCard]:
        names = [c.card for c in cards]
        repeated = sorted({name for name in names if names.count(name) > 1})
        if repeated:
            raise PydanticCustomError("duplicate_card", "list each card once; {cards} came more than once",
                                      {"cards": ", ".join(repeated)})
        return cards + [OverviewCard(card=card) for card in OVERVIEW_CARDS if card not in names]


def from_stored(values: dict[str, Any] | None) -> Preferences:
    """Saved values over the defaults; a value no longer valid (a preset or card since retired) falls back."""
    known = {k: v for k, v in (values or {}).items() if k in Preferences.model_fields}
    if isinstance(known.get("overview_cards"), list):
        known["overview_cards"] = [c for c in known["overview_cards"]
                                   if isinstance(c, dict) and c.get("card") in OVERVIEW_CARDS]
    try:
        return Preferences.model_validate(known)
    except ValidationError as exc:
        stale = {str(error["loc"][0]) for error in exc.errors() if error["loc"]}
        return Preferences.model_validate({k: v for k, v in known.items() if k not in stale})


def read(store: TenantStore, ctx: TenantContext) -> Preferences:
    """The caller's preferences, defaults filled in when never saved."""
    return from_stored(store.get_preferences(ctx.tenant_id, ctx.user_id))


def save(store: TenantStore, ctx: TenantContext, preferences: Preferences) -> Preferences:
    """Replace the caller's preferences with ``preferences`` (already validated and normalised)."""
    store.put_preferences(ctx.tenant_id, ctx.user_id, preferences.model_dump(mode="json"))
    return preferences
