"""dlbook.market: bundled series, validation errors, leak-free folds and windows, the backtest and its
metrics against hand computations, and the optional download cache (fake packages, no network)."""
from __future__ import annotations

import datetime as dt
import importlib.machinery
import math
import sys
import types

import numpy as np
import pandas as pd
import pytest

from dlbook import market as M


def frame(closes, start="2024-01-01", freq="B") -> pd.DataFrame:
    """A small valid OHLCV frame around the given closes."""
    close = np.asarray(closes, dtype=float)
    idx = pd.DatetimeIndex(pd.date_range(start, periods=len(close), freq=freq), freq=None,
                           name="date").as_unit("ns")
    return pd.DataFrame({"open": close, "high": close * 1.01, "low": close * 0.99,
                         "close": close, "volume": np.arange(1, len(close) + 1) * 100}, index=idx)


# --- bundled series -----------------------------------------------------------------------

def test_goog_is_the_matplotlib_sample():
    df = M.load_goog()
    assert list(df.columns) == list(M.OHLCV) and len(df) == 1047
    assert isinstance(df.index, pd.DatetimeIndex) and df.index.name == "date"
    assert str(df.index[0].date()) == "2004-08-19" and str(df.index[-1].date()) == "2008-10-14"
    assert df.loc["2004-08-19", "close"] == pytest.approx(100.34)
    assert df["volume"].dtype == np.int64


def test_sp500_from_arch_with_and_without_the_fast_path(monkeypatch):
    pytest.importorskip("arch")
    df = M.load_sp500()
    assert len(df) == 5031 and list(df.columns) == list(M.OHLCV)
    assert str(df.index[0].date()) == "1999-01-04" and str(df.index[-1].date()) == "2018-12-31"
    monkeypatch.setattr(M, "_sp500_file", lambda: None)  # through arch.data.sp500.load()
    pd.testing.assert_frame_equal(M.load_sp500(), df)


# --- validation ---------------------------------------------------------------------------

def test_a_clean_frame_passes_unchanged():
    df = frame([10, 11, 12, 11])
    assert M.validate_prices(df) is df


@pytest.mark.parametrize("breakage, message", [
    (lambda d: d.assign(close=d["close"].where(d.index != d.index[2])), "missing values"),
    (lambda d: d.iloc[[0, 1, 1, 2, 3]], "duplicate dates"),
    (lambda d: d.iloc[[0, 2, 1, 3]], "dates go backwards"),
    (lambda d: d.reset_index(drop=True), "DatetimeIndex"),
    (lambda d: d.drop(columns="volume"), "missing columns"),
    (lambda d: d.assign(low=d["close"] * 1.5), "inconsistent bars"),
    (lambda d: d.assign(open=-d["open"]), "prices <= 0"),
])
def test_bad_series_get_a_clear_error(breakage, message):
    with pytest.raises(M.PriceDataError, match=message):
        M.validate_prices(breakage(frame([10, 11, 12, 11])))


def test_the_error_names_the_bad_date():
    df = frame([10, 11, 12, 11])
    df.loc[df.index[2], "high"] = np.nan
    with pytest.raises(M.PriceDataError, match=str(df.index[2].date())):
        M.validate_prices(df)


def test_gaps_beyond_the_limit_are_refused():
    df = frame(range(10, 40))
    holes = df.drop(df.index[10:20])  # two weeks missing: Friday to Monday 17 days later
    with pytest.raises(M.PriceDataError, match="gap of 17 calendar days before 2024-01-29"):
        M.validate_prices(holes)
    assert M.validate_prices(holes, max_gap_days=17) is holes
    assert M.validate_prices(holes, max_gap_days=None) is holes
    weekend = frame(range(10, 20))  # business days: Friday -> Monday is 3 days
    M.validate_prices(weekend, max_gap_days=3)


def test_the_bundled_series_respect_the_default_gap_limit():
    assert M.validate_prices(M.load_goog(), max_gap_days=5) is not None


def test_repair_sorts_drops_copies_and_missing_days_and_says_so():
    df = frame([10, 11, 12, 13, 14])
    messy = pd.concat([df.iloc[[3, 0, 1]], df.iloc[[1]], df.iloc[[2, 4]]])  # shuffled + a copy
    messy.loc[messy.index[-1], "close"] = np.nan
    fixed, notes = M.repair_prices(messy)
    assert list(fixed.index) == list(df.index[:4])
    pd.testing.assert_frame_equal(fixed, df.iloc[:4])  # values stay on their own dates
    assert len(notes) == 3 and "sorted" in notes[0] and "duplicate" in notes[1]
    assert "missing" in notes[2] and str(df.index[4].date()) in notes[2]
    M.validate_prices(fixed)


def test_repair_refuses_duplicates_that_disagree():
    df = frame([10, 11, 12])
    other = df.iloc[[1]].assign(close=11.5)
    with pytest.raises(M.PriceDataError, match="different values"):
        M.repair_prices(pd.concat([df, other]))


def test_repair_never_fills_or_shifts():
    df = frame([10, 11, 12, 13])
    df.loc[df.index[1], "close"] = np.nan
    fixed, _ = M.repair_prices(df)
    assert df.index[1] not in fixed.index
    assert fixed["close"].to_dict() == {d: c for d, c in df["close"].items() if d != df.index[1]}


# --- splits, folds, windows ---------------------------------------------------------------

def test_chronological_split_with_gap():
    fold = M.chronological_split(100, 0.2, gap=5)
    assert fold.train[-1] == 74 and fold.test[0] == 80 and fold.test[-1] == 99
    with pytest.raises(ValueError):
        M.chronological_split(10, 8, gap=3)


@pytest.mark.parametrize("train_size", [None, 30])
def test_walk_forward_folds_never_overlap_or_leak(train_size):
    n, gap = 200, 7
    folds = M.walk_forward_folds(n, 5, 20, gap=gap, train_size=train_size)
    tests = np.concatenate([f.test for f in folds])
    assert len(tests) == len(set(tests)) == 100 and tests.max() == n - 1  # disjoint, to the end
    for f in folds:
        assert np.all(np.diff(f.test) == 1) and np.all(np.diff(f.train) == 1)
        assert f.train.max() + gap < f.test.min()  # every training row before the gap
        assert not set(f.train) & set(f.test)
        if train_size:
            assert len(f.train) == train_size
    with pytest.raises(ValueError, match="training rows"):
        M.walk_forward_folds(100, 5, 20, gap=1)


def test_windows_hold_the_right_values():
    values = np.arange(20.0)
    X, y, t = M.make_windows(values, 3, np.arange(5, 12))
    np.testing.assert_array_equal(t, [7, 8, 9, 10])
    np.testing.assert_array_equal(X[0], [5, 6, 7])
    np.testing.assert_array_equal(y, [8, 9, 10, 11])
    X2, y2, _ = M.make_windows(np.c_[values, -values], 4, horizon=2, target=values * 10)
    assert X2.shape == (20 - 4 - 1, 4, 2) and y2[0] == 50 and X2[0, -1, 1] == -3


def test_windows_never_cross_the_split():
    values = np.arange(300.0)  # each value is its own row number: leaks are visible
    for fold in M.walk_forward_folds(300, 4, 40, gap=3):
        for rows in fold:
            X, y, t = M.make_windows(values, 10, rows, horizon=2)
            assert M.windows_inside(t, 10, rows, horizon=2)
            assert X.min() >= rows.min() and y.max() <= rows.max()
        Xtr, ytr, _ = M.make_windows(values, 10, fold.train, horizon=2)
        assert max(Xtr.max(), ytr.max()) < fold.test.min()  # nothing of the test block in training
    assert not M.windows_inside(np.array([5]), 10, np.arange(0, 50))


def test_test_windows_may_read_the_past_but_never_the_future():
    values = np.arange(100.0)
    fold = M.walk_forward_folds(100, 2, 20, gap=2)[0]  # train 0..57, test 60..79
    X, y, t = M.make_windows(values, 5, fold.test, past_inputs=True)
    np.testing.assert_array_equal(y, np.arange(60, 80))  # every test row is a target once
    assert X.min() == 55 and X.max() == 78  # inputs reach back into the past, never past 79
    assert M.windows_inside(t, 5, fold.test, past_inputs=True)
    assert not M.windows_inside(t, 5, fold.test)  # strict: inputs before the block
    Xs, ys, _ = M.make_windows(values, 5, fold.test)
    assert len(ys) == 15 and Xs.min() == 60


def test_windows_edge_cases():
    X, y, t = M.make_windows(np.arange(10.0), 5, np.arange(3, 8))  # 5 rows: no room for a target
    assert X.shape == (0, 5) and len(y) == len(t) == 0
    with pytest.raises(ValueError, match="contiguous"):
        M.make_windows(np.arange(10.0), 2, [1, 2, 4, 5])


# --- backtest and metrics, by hand ---------------------------------------------------------

RETURNS = [0.1, -0.2, 0.05]


def test_metrics_against_hand_computation():
    # wealth 1 -> 1.1 -> 0.88 -> 0.924
    assert M.equity_curve(RETURNS).tolist() == pytest.approx([1.1, 0.88, 0.924])
    assert M.annualised_return(RETURNS) == pytest.approx(0.924 ** (252 / 3) - 1)
    # mean -1/60; squared deviations 0.0136111 + 0.0336111 + 0.0044444 = 0.0516667; / 2 -> std
    std = math.sqrt(0.0516667 / 2)
    assert M.annualised_volatility(RETURNS) == pytest.approx(std * math.sqrt(252), rel=1e-5)
    assert M.sharpe_ratio(RETURNS) == pytest.approx(-1 / 60 / std * math.sqrt(252), rel=1e-5)
    assert M.max_drawdown(RETURNS) == pytest.approx(0.2)  # 1.1 -> 0.88
    assert M.max_drawdown([-0.1, 0.05]) == pytest.approx(0.1)  # the start counts as a peak
    assert M.max_drawdown([0.01, 0.02]) == 0.0
    assert math.isnan(M.sharpe_ratio([0.0, 0.0, 0.0]))
    assert M.sharpe_ratio([0.01, 0.03], risk_free=0.02 * 252) == pytest.approx(0.0)
    assert set(M.performance(RETURNS)) == {"annual_return", "annual_volatility", "sharpe",
                                           "max_drawdown"}


def test_backtest_by_hand():
    idx = pd.date_range("2024-01-01", periods=5, freq="B")
    returns = pd.Series([np.nan, 0.10, -0.10, 0.00, 0.10], index=idx)  # close-to-close, into t
    positions = pd.Series([1.0, 0.0, -1.0, 1.0, 1.0], index=idx)        # decided at close t
    bt = M.backtest(positions, returns, cost=0.01)
    assert list(bt.index) == list(idx[1:])
    # held: 1, 0, -1, 1; gross: 0.10, 0, 0, 0.10; turnover: 1 (from flat), 1, 1, 2
    assert bt["position"].tolist() == [1, 0, -1, 1]
    assert bt["gross"].tolist() == pytest.approx([0.10, 0.0, 0.0, 0.10])
    assert bt["turnover"].tolist() == [1, 1, 1, 2]
    assert bt["net"].tolist() == pytest.approx([0.09, -0.01, -0.01, 0.08])
    assert bt["equity"].iloc[-1] == pytest.approx(1.09 * 0.99 * 0.99 * 1.08)
    assert M.backtest(positions, returns)["net"].sum() == pytest.approx(0.2)


def test_a_position_never_earns_the_return_that_produced_it():
    rng = np.random.default_rng(0)
    idx = pd.date_range("2020-01-01", periods=300, freq="B")
    returns = pd.Series(rng.normal(0, 0.01, 300), index=idx)
    same_day = np.sign(returns.fillna(0))  # "knows" today's return: useless once held tomorrow
    cheat = np.sign(returns.shift(-1).fillna(0))  # knows tomorrow's return: the look-ahead
    assert M.sharpe_ratio(M.backtest(cheat, returns)["net"]) > 10
    assert abs(M.sharpe_ratio(M.backtest(same_day, returns)["net"])) < 3
    # net return of period t+1 depends on positions up to t only
    base = M.backtest(same_day, returns)["net"]
    later = same_day.copy()
    later.iloc[150:] = -later.iloc[150:]
    pd.testing.assert_series_equal(M.backtest(later, returns)["net"].iloc[:149], base.iloc[:149])


def test_backtest_rejects_misaligned_input():
    idx = pd.date_range("2024-01-01", periods=4, freq="B")
    with pytest.raises(ValueError, match="share one index"):
        M.backtest(pd.Series(1.0, index=idx), pd.Series(0.01, index=idx + pd.Timedelta("1D")))
    with pytest.raises(ValueError, match="NaN"):
        M.backtest(pd.Series([1, np.nan, 1, 1], index=idx), pd.Series(0.01, index=idx))


# --- optional downloads: fake packages, no network -----------------------------------------

def fake_module(monkeypatch, name: str, **attrs) -> types.ModuleType:
    mod = types.ModuleType(name)
    mod.__spec__ = importlib.machinery.ModuleSpec(name, None)  # so find_spec sees it
    for key, value in attrs.items():
        setattr(mod, key, value)
    monkeypatch.setitem(sys.modules, name, mod)
    return mod


def fake_yfinance(monkeypatch, calls: list, fail: Exception | None = None):
    df = frame([100, 101, 99, 102, 103], start="2024-03-01")
    raw = df.rename(columns=str.title).assign(**{"Adj Close": df["close"]})
    raw.index = raw.index.tz_localize("America/New_York") + pd.Timedelta("9h30min")

    class Ticker:
        def __init__(self, symbol):
            self.symbol = symbol

        def history(self, **kwargs):
            calls.append((self.symbol, kwargs))
            if fail:
                raise fail
            return raw

    fake_module(monkeypatch, "yfinance", Ticker=Ticker)
    return df


def test_download_is_cached_with_its_date_and_read_back(monkeypatch, tmp_path):
    calls = []
    expected = fake_yfinance(monkeypatch, calls)
    day = dt.date(2025, 1, 2)
    got = M.download_prices("yfinance", "^GSPC", cache_dir=tmp_path, today=day)
    assert [p.name for p in tmp_path.iterdir()] == ["yfinance_GSPC_2025-01-02.csv"]
    assert calls[0][1]["auto_adjust"] is False
    pd.testing.assert_frame_equal(got, expected, check_freq=False, check_dtype=False)
    again = M.download_prices("yfinance", "^GSPC", cache_dir=tmp_path, today=day)
    assert len(calls) == 1, "a cached series is not downloaded again"
    pd.testing.assert_frame_equal(again, got, check_freq=False)
    M.download_prices("yfinance", "^GSPC", cache_dir=tmp_path, today=day + dt.timedelta(40),
                      max_age_days=30)
    assert len(calls) == 2 and len(M.cached_files("yfinance", "^GSPC", tmp_path)) == 2


def test_akshare_columns_are_translated(monkeypatch, tmp_path):
    df = frame([10, 11, 12], start="2017-01-03")
    chinese = pd.DataFrame({"日期": df.index.strftime("%Y-%m-%d"), "开盘": df["open"].values,
                            "收盘": df["close"].values, "最高": df["high"].values,
                            "最低": df["low"].values, "成交量": df["volume"].values})
    fake_module(monkeypatch, "akshare", stock_zh_a_hist=lambda **kw: chinese,
                stock_zh_index_daily=lambda **kw: df.reset_index())
    stock = M.download_prices("akshare", "600519", cache_dir=tmp_path, start="2017-01-01")
    index = M.download_prices("akshare", "sh000001", cache_dir=tmp_path, start="2017-01-01")
    for got in (stock, index):
        np.testing.assert_allclose(got["close"], df["close"])
        assert list(got.columns) == list(M.OHLCV)


def test_missing_package_or_network_falls_back_with_a_message(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path))
    real_find_spec = importlib.util.find_spec
    monkeypatch.setattr(M.importlib.util, "find_spec",
                        lambda name: None if name == "akshare" else real_find_spec(name))
    with pytest.raises(M.MarketDownloadError, match="pip install akshare"):
        M.download_prices("akshare", "sh000001")
    df = M.load_prices("akshare:sh000001", fallback="goog")
    assert df.attrs["source"].startswith("matplotlib") and "pip install akshare" in \
        capsys.readouterr().out
    calls = []
    fake_yfinance(monkeypatch, calls, fail=OSError("Temporary failure in name resolution"))
    with pytest.raises(M.MarketDownloadError, match="name resolution"):
        M.download_prices("yfinance", "^GSPC")
    assert len(M.load_prices("yfinance:^GSPC", fallback="goog", verbose=False)) == 1047
    assert list(tmp_path.rglob("*.csv")) == [] and list(tmp_path.rglob("*.part")) == []


def test_downloads_allow_long_exchange_holidays_but_not_bad_data(monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("DLBOOK_DATA", str(tmp_path))
    df = frame(range(10, 40), start="2001-01-02")
    festival = df.drop(df.index[14:25])  # closed 2001-01-22 .. 2001-02-02, as in Shanghai
    fake_module(monkeypatch, "akshare", stock_zh_index_daily=lambda **kw: festival.reset_index())
    got = M.download_prices("akshare", "sh000001", start="2001-01-01")
    assert len(got) == len(festival)  # a 17-day holiday is not a data error for a download
    with pytest.raises(M.PriceDataError):
        M.validate_prices(festival)  # but it is above the default limit
    broken = festival.assign(low=festival["high"] * 2)  # low above high: bad bars
    fake_module(monkeypatch, "akshare", stock_zh_index_daily=lambda **kw: broken.reset_index())
    with pytest.raises(M.PriceDataError, match="inconsistent bars"):
        M.download_prices("akshare", "sz399001", start="2001-01-01")
    assert len(M.load_prices("akshare:sz399001", fallback="goog")) == 1047
    assert "inconsistent bars" in capsys.readouterr().out
    assert M.cached_files("akshare", "sz399001") == []  # bad data is never cached


def test_the_cache_is_never_half_written(monkeypatch, tmp_path):
    old = frame([1, 2, 3])
    path = M.write_csv_atomic(old, tmp_path / "yfinance_X_2024-01-01.csv")
    before = path.read_bytes()

    def crash(self, fh, **kwargs):
        fh.write("date,open,high\n2024-01-01,1,")  # half a file, then the disk fills up
        raise OSError("No space left on device")

    monkeypatch.setattr(pd.DataFrame, "to_csv", crash)
    with pytest.raises(OSError, match="No space"):
        M.write_csv_atomic(frame([7, 8, 9]), path)
    assert path.read_bytes() == before  # the old file is intact
    assert [p.name for p in tmp_path.iterdir()] == [path.name]  # and no temporary file is left


def test_unknown_names_are_refused():
    with pytest.raises(ValueError, match="unknown series"):
        M.load_prices("bloomberg:SPX")
    with pytest.raises(ValueError, match="unknown source"):
        M.download_prices("quandl", "X")
