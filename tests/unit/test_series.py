"""The real airline-passenger series that dlbook.series ships (Box & Jenkins series G)."""
from __future__ import annotations

import pandas as pd

from dlbook.series import airline_passengers


def test_airline_passengers_has_144_months_from_1949_to_1960():
    s = airline_passengers()
    assert isinstance(s, pd.Series) and len(s) == 144
    assert s.index[0] == pd.Timestamp("1949-01-01") and s.index[-1] == pd.Timestamp("1960-12-01")
    assert s.index.is_monotonic_increasing and s.index.is_unique
    assert (s.index.day == 1).all()
    # consecutive months, no gaps: Jan 1949 is month 0, Dec 1960 month 143
    months = (s.index.year - 1949) * 12 + s.index.month - 1
    assert list(months) == list(range(144))


def test_airline_passengers_values():
    s = airline_passengers()
    assert s.dtype == "int64" and s.name == "passengers"
    assert list(s.iloc[:4]) == [112, 118, 132, 129]  # Jan-Apr 1949
    assert list(s.iloc[-3:]) == [461, 390, 432]       # Oct-Dec 1960
    assert int(s.sum()) == 40363                       # R: mean(AirPassengers) * 144
    assert (s.min(), s.max()) == (104, 622)
    assert s.idxmax() == pd.Timestamp("1960-07-01")
    assert s["1958-08-01"] == 505                      # the peak of 1958


def test_airline_passengers_returns_a_fresh_copy():
    s = airline_passengers()
    s.iloc[0] = -1
    assert airline_passengers().iloc[0] == 112
