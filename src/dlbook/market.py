"""Daily market data for chapter 8: loaders, a validator, chronological splits, windows, a backtest.

Taught in `ch08/01_market_data` (loading, validating, splitting, windows), `ch08/02_price_prediction`
(walk-forward evaluation) and `ch08/03_backtest` (positions, costs and the performance metrics).

Conventions, used everywhere below:
- a price frame has a `DatetimeIndex` named "date", strictly increasing, and the float columns
  open, high, low, close and an integer volume (lower case);
- `returns[t]` is the close-to-close return *into* day t: close[t] / close[t-1] - 1;
- `positions[t]` is decided at the close of day t, from data up to t, and earns `returns[t+1]`.

Two daily series ship with dependencies and work offline: Google's stock 2004-08-19 to 2008-10-14
(matplotlib's sample data `goog.npz`) and the S&P 500 index 1999-01-04 to 2018-12-31
(`arch.data.sp500`). Other series can be downloaded through the optional packages yfinance or
akshare and are cached as CSV in the data root (`dlbook.data.cache_root() / "market"`).
"""
from __future__ import annotations

import datetime as _dt
import importlib
import importlib.util
import math
import os
import re
import tempfile
from pathlib import Path
from typing import NamedTuple

import numpy as np
import pandas as pd

OHLCV = ("open", "high", "low", "close", "volume")
TRADING_DAYS = 252  # trading days per year: the annualisation factor of daily returns
DEFAULT_MAX_GAP_DAYS = 14
"""Largest allowed distance between consecutive rows, in calendar days. Exchange holidays stay
below it (the longest closures in the bundled series are 5 and 7 days, the week after
11 September 2001; Chinese New Year and Golden Week close Shanghai for up to 10 days);
a missing fortnight does not."""
DOWNLOAD_MAX_GAP_DAYS = 20
"""The gap limit for downloaded series: the Shanghai exchange closed for 17 calendar days over the
Spring Festivals of 2001 and 2002."""
BUNDLED = ("goog", "sp500")
SOURCES = ("yfinance", "akshare")


class PriceDataError(ValueError):
    """A price series that cannot be used as it is; the message says what is wrong and where."""


class MarketDownloadError(RuntimeError):
    """A series could not be downloaded (package missing, offline, unknown symbol)."""


# --- the bundled series ------------------------------------------------------------------

def _frame(data: dict, index, name: str, source: str) -> pd.DataFrame:
    df = pd.DataFrame(data, index=pd.DatetimeIndex(index, name="date").as_unit("ns"))
    df = df[list(OHLCV)].astype({c: "float64" for c in OHLCV[:4]} | {"volume": "int64"})
    df.attrs.update(name=name, source=source)
    return df


def load_goog() -> pd.DataFrame:
    """Google (GOOG) daily OHLCV, 2004-08-19 to 2008-10-14 (1,047 days), from matplotlib's samples."""
    from matplotlib import cbook

    path = cbook.get_sample_data("goog.npz", asfileobj=False)  # a path in every matplotlib
    with np.load(path) as npz:
        arr = npz["price_data"]
    data = {c: arr[c] for c in OHLCV}
    return validate_prices(_frame(data, arr["date"], "Google (GOOG)",
                                  "matplotlib sample data goog.npz"))


def _sp500_file() -> Path | None:
    spec = importlib.util.find_spec("arch")  # locate the file without importing arch (slow)
    if spec is None or not spec.submodule_search_locations:
        return None
    path = Path(list(spec.submodule_search_locations)[0]) / "data" / "sp500" / "sp500.csv.gz"
    return path if path.is_file() else None


def load_sp500() -> pd.DataFrame:
    """S&P 500 index daily OHLCV, 1999-01-04 to 2018-12-31 (5,031 days), from `arch.data.sp500`."""
    path = _sp500_file()
    if path is not None:
        raw = pd.read_csv(path, index_col=0, parse_dates=True)
    else:
        try:
            from arch.data import sp500
        except ImportError:
            raise PriceDataError("the S&P 500 series ships with the package `arch`, which is not "
                                 "installed: pip install arch") from None
        raw = sp500.load()
    raw.columns = [c.strip().lower() for c in raw.columns]
    data = {c: raw[c].to_numpy() for c in OHLCV}
    return validate_prices(_frame(data, raw.index, "S&P 500 index", "arch.data.sp500"))


# --- validation and documented repair -----------------------------------------------------

def _where(index: pd.Index, mask, limit: int = 3) -> str:
    dates = [str(d.date()) if hasattr(d, "date") else str(d) for d in index[np.asarray(mask)]]
    more = f" and {len(dates) - limit} more" if len(dates) > limit else ""
    return ", ".join(dates[:limit]) + more


def validate_prices(df: pd.DataFrame, *, max_gap_days: float | None = DEFAULT_MAX_GAP_DAYS,
                    check_ohlc: bool = True) -> pd.DataFrame:
    """Return `df` unchanged if it is a clean daily OHLCV frame; raise PriceDataError otherwise.

    Checked: a DatetimeIndex without duplicates, strictly increasing; the five OHLCV columns; no
    missing values; positive prices; low <= open, close <= high (with `check_ohlc`); no gap between
    consecutive rows longer than `max_gap_days` calendar days (None: no gap check). Nothing is
    repaired here: see `repair_prices` for the repairs that are safe to make."""
    if not isinstance(df, pd.DataFrame):
        raise PriceDataError(f"expected a pandas DataFrame, got {type(df).__name__}.")
    if not isinstance(df.index, pd.DatetimeIndex):
        raise PriceDataError("the index must be a DatetimeIndex of trading days (e.g. "
                             "df.set_index(pd.to_datetime(df['date']))); it is a "
                             f"{type(df.index).__name__}.")
    missing = [c for c in OHLCV if c not in df.columns]
    if missing:
        raise PriceDataError(f"missing columns {missing}; a price frame has {list(OHLCV)} "
                             f"(lower case); it has {list(df.columns)}.")
    if len(df) < 2:
        raise PriceDataError(f"{len(df)} row(s): a price series needs at least two days.")
    idx = df.index
    if idx.isna().any():
        raise PriceDataError(f"{int(idx.isna().sum())} row(s) have no date (NaT).")
    dup = idx.duplicated(keep="first")
    if dup.any():
        raise PriceDataError(f"duplicate dates: {_where(idx, dup)}. Keep one row per day "
                             "(repair_prices drops exact copies; conflicting rows need a decision).")
    step = np.diff(idx.as_unit("ns").asi8)  # nanoseconds between rows
    if (step < 0).any():
        where = np.r_[False, step < 0]
        raise PriceDataError(f"dates go backwards at {_where(idx, where)}: sort the rows by date "
                             "(df.sort_index(), or repair_prices) before anything else.")
    nan = df[list(OHLCV)].isna()
    if nan.to_numpy().any():
        cols = [c for c in OHLCV if nan[c].any()]
        rows = nan.any(axis=1).to_numpy()
        raise PriceDataError(f"missing values in {cols} on {int(rows.sum())} day(s): "
                             f"{_where(idx, rows)}. Drop those days (repair_prices does, and "
                             "says so) rather than filling them: a filled price invents a return.")
    prices = df[list(OHLCV[:4])].to_numpy(dtype=float)
    if (prices <= 0).any():
        rows = (prices <= 0).any(axis=1)
        raise PriceDataError(f"prices <= 0 on {_where(idx, rows)}.")
    if (df["volume"].to_numpy() < 0).any():
        raise PriceDataError(f"negative volume on {_where(idx, df['volume'].to_numpy() < 0)}.")
    if check_ohlc:
        o, h, l, c = prices.T
        tol = 1e-6 * h  # rounding in the source
        bad = (l > np.minimum(o, c) + tol) | (h < np.maximum(o, c) - tol) | (l > h)
        if bad.any():
            raise PriceDataError(f"inconsistent bars (low above open/close or high below them) "
                                 f"on {_where(idx, bad)}; check the source, or pass "
                                 "check_ohlc=False.")
    if max_gap_days is not None:
        days = step / (86_400 * 1e9)
        gaps = np.r_[False, days > max_gap_days]
        if gaps.any():
            i = int(np.argmax(gaps))
            raise PriceDataError(f"gap of {days[i - 1]:.0f} calendar days before "
                                 f"{_where(idx, gaps)} (limit {max_gap_days}): data is missing. "
                                 "Fill it from the source or study the pieces separately; a "
                                 "return across the gap would look like one day's move.")
    return df


def repair_prices(df: pd.DataFrame) -> tuple[pd.DataFrame, list[str]]:
    """The safe, documented repairs; returns (repaired copy, notes saying what was done).

    1. rows out of date order are sorted (values are never moved between dates);
    2. exact duplicate rows (same date, same values) are dropped; duplicates that disagree raise
       PriceDataError, because no rule can say which is right;
    3. days with a missing value are dropped (never filled: a filled price invents a return).
    Gaps are not repaired: `validate_prices` still reports them afterwards."""
    if not isinstance(df.index, pd.DatetimeIndex):
        raise PriceDataError("repair_prices needs a DatetimeIndex; set it first.")
    notes: list[str] = []
    out = df.copy()
    if not out.index.is_monotonic_increasing:
        out = out.sort_index(kind="stable")
        notes.append("sorted the rows by date")
    dup = out.index.duplicated(keep=False)
    if dup.any():
        differ = out[dup].groupby(level=0).nunique(dropna=False).gt(1).any(axis=1)
        if differ.any():
            raise PriceDataError(f"duplicate dates with different values: "
                                 f"{_where(differ.index, differ.to_numpy())}; "
                                 "decide which row is right.")
        before = len(out)
        out = out[~out.index.duplicated(keep="first")]
        notes.append(f"dropped {before - len(out)} exact duplicate row(s)")
    nan = out[[c for c in OHLCV if c in out.columns]].isna().any(axis=1).to_numpy()
    if nan.any():
        notes.append(f"dropped {int(nan.sum())} day(s) with missing values: "
                     f"{_where(out.index, nan)}")
        out = out[~nan]
    return out, notes


# --- splits, walk-forward folds and windows -----------------------------------------------

class Fold(NamedTuple):
    """Row positions of one split: everything in `train` comes before everything in `test`."""

    train: np.ndarray
    test: np.ndarray


def chronological_split(n: int, test_size: int | float, gap: int = 0) -> Fold:
    """First rows for training, the last `test_size` rows (or fraction) for testing, `gap` rows
    between them left out."""
    if isinstance(test_size, float):
        if not 0 < test_size < 1:
            raise ValueError(f"a fractional test_size must lie in (0, 1), not {test_size}.")
        test_size = int(round(n * test_size))
    if gap < 0 or test_size < 1 or n - test_size - gap < 1:
        raise ValueError(f"cannot split {n} rows into a test set of {test_size} after a gap of "
                         f"{gap} and a non-empty training set.")
    start = n - test_size
    return Fold(np.arange(0, start - gap), np.arange(start, n))


def walk_forward_folds(n: int, n_folds: int, test_size: int, *, gap: int = 0,
                       train_size: int | None = None, min_train: int = 1) -> list[Fold]:
    """Walk-forward (rolling-origin) folds over the last n_folds * test_size rows.

    Fold k tests on the k-th block of `test_size` rows and trains on the rows before it, minus
    `gap` rows next to the test block (an embargo: use at least the horizon of a multi-day target).
    The training window expands (train_size=None) or slides with a fixed `train_size`. Test blocks
    never overlap and every training row precedes every test row of its fold."""
    if n_folds < 1 or test_size < 1 or gap < 0:
        raise ValueError("n_folds and test_size must be >= 1 and gap >= 0.")
    first = n - n_folds * test_size
    if first - gap < max(min_train, 1):
        raise ValueError(f"{n} rows leave {first - gap} training rows before the first test block "
                         f"(need {max(min_train, 1)}): use fewer or smaller folds, or a smaller gap.")
    folds = []
    for k in range(n_folds):
        start = first + k * test_size
        end = start - gap
        begin = 0 if train_size is None else max(0, end - train_size)
        folds.append(Fold(np.arange(begin, end), np.arange(start, start + test_size)))
    return folds


def make_windows(values, lookback: int, rows=None, *, horizon: int = 1, target=None,
                 past_inputs: bool = False):
    """Sliding windows whose targets lie in `rows`: (X, y, t).

    For each decision row t, X holds values[t - lookback + 1 .. t] and y is target[t + horizon]
    (target defaults to values); `t` gives each window's decision row. `rows` is a contiguous block
    of row positions (e.g. a fold's train or test block). A window is kept only if its target and
    all its inputs lie in `rows`, so training windows never reach into the test block. With
    `past_inputs=True` (for a test block) inputs may also come from rows *before* the block: the
    past is known when the decision is made; nothing after the block is ever used.
    X has shape (N, lookback) for 1-D values, (N, lookback, F) otherwise."""
    values = np.asarray(values)
    target = values if target is None else np.asarray(target)
    if len(target) != len(values):
        raise ValueError(f"values has {len(values)} rows but target has {len(target)}.")
    if lookback < 1 or horizon < 1:
        raise ValueError("lookback and horizon must be >= 1.")
    rows = np.arange(len(values)) if rows is None else np.asarray(rows)
    if rows.size and (np.any(np.diff(rows) != 1) or rows[0] < 0 or rows[-1] >= len(values)):
        raise ValueError("rows must be a contiguous, increasing block of valid row positions.")
    first_input = 0 if past_inputs else rows[0] if rows.size else 0
    first = max(first_input + lookback - 1, rows[0] - horizon if rows.size else 0)
    t = np.arange(first, rows[-1] - horizon + 1) if rows.size else np.arange(0)
    if t.size == 0:
        empty_x = np.empty((0, lookback) + values.shape[1:], dtype=values.dtype)
        return empty_x, np.empty(0, dtype=target.dtype), t.astype(int)
    X = np.stack([values[i - lookback + 1:i + 1] for i in t])
    return X, target[t + horizon], t


def windows_inside(t: np.ndarray, lookback: int, rows, horizon: int = 1, *,
                   past_inputs: bool = False) -> bool:
    """True when every window (decision rows `t`) has its target inside `rows` and its inputs
    inside `rows` (or, with past_inputs, anywhere before the block's end)."""
    rows, t = np.asarray(rows), np.asarray(t)
    if len(t) == 0:
        return True
    first_input = 0 if past_inputs else rows.min()
    targets_in = t.min() + horizon >= rows.min() and t.max() + horizon <= rows.max()
    return bool(targets_in and t.min() - lookback + 1 >= first_input)


# --- backtest and performance metrics ----------------------------------------------------

def _series(x, index=None) -> pd.Series:
    if isinstance(x, pd.Series):
        return x.astype(float)
    return pd.Series(np.asarray(x, dtype=float), index=index)


def backtest(positions, returns, cost: float = 0.0) -> pd.DataFrame:
    """Apply positions to returns, one row per holding period.

    positions[t] is decided at the close of day t (from data up to t) and held until the close of
    t+1, so it earns returns[t+1]; returns[t] is the asset's return from close t-1 to close t.
    Changing the position costs `cost` per unit of change (0.001 = 10 basis points for going from
    flat to fully long), paid in the period the new position is held. The first position is
    reached from flat. Returns a frame indexed by the end of each period, from the second row of
    `returns`: position (held), asset, gross, turnover, cost, net, equity (starting from 1)."""
    r = _series(returns)
    p = _series(positions, r.index)
    if len(p) != len(r) or not p.index.equals(r.index):
        raise ValueError("positions and returns must share one index (one row per day).")
    if p.isna().any() or r.iloc[1:].isna().any():
        raise ValueError("positions and returns (after the first row) must not contain NaN.")
    if cost < 0:
        raise ValueError(f"cost must be >= 0, not {cost}.")
    held = p.shift(1)  # the position decided yesterday is what we hold today
    turnover = p.diff().abs()
    turnover.iloc[0] = abs(p.iloc[0])
    out = pd.DataFrame({"position": held, "asset": r, "turnover": turnover.shift(1)}).iloc[1:]
    out["gross"] = out["position"] * out["asset"]
    out["cost"] = cost * out["turnover"]
    out["net"] = out["gross"] - out["cost"]
    out["equity"] = equity_curve(out["net"])
    return out[["position", "asset", "gross", "turnover", "cost", "net", "equity"]]


def equity_curve(returns) -> pd.Series:
    """Wealth after each period, starting from 1: the cumulative product of (1 + return)."""
    return (1 + _series(returns)).cumprod()


def annualised_return(returns, periods_per_year: int = TRADING_DAYS) -> float:
    """Compound annual growth rate: final wealth ** (periods_per_year / n) - 1."""
    r = _series(returns)
    if len(r) == 0:
        raise ValueError("no returns.")
    final = float((1 + r).prod())
    if final <= 0:
        return -1.0
    return final ** (periods_per_year / len(r)) - 1


def annualised_volatility(returns, periods_per_year: int = TRADING_DAYS) -> float:
    """Standard deviation of the period returns (ddof=1) times sqrt(periods_per_year)."""
    return float(_series(returns).std(ddof=1) * math.sqrt(periods_per_year))


def sharpe_ratio(returns, periods_per_year: int = TRADING_DAYS, risk_free: float = 0.0) -> float:
    """Annualised Sharpe ratio: mean excess return / its standard deviation * sqrt(periods).

    `risk_free` is an annual rate, spread evenly over the periods. NaN when the returns do not vary
    (a strategy that never holds anything has no Sharpe ratio)."""
    excess = _series(returns) - risk_free / periods_per_year
    sd = float(excess.std(ddof=1))
    if not sd > 0:
        return float("nan")
    return float(excess.mean()) / sd * math.sqrt(periods_per_year)


def max_drawdown(returns) -> float:
    """Largest fall from a running peak of wealth, as a positive fraction (0.25 = lost 25%).

    The starting wealth of 1 counts as the first peak, so a loss on day one is a drawdown."""
    wealth = np.r_[1.0, equity_curve(returns).to_numpy()]
    peak = np.maximum.accumulate(wealth)
    return float(np.max(1 - wealth / peak))


def performance(returns, periods_per_year: int = TRADING_DAYS) -> dict[str, float]:
    """The four headline numbers of a return series, as a dict."""
    return {"annual_return": annualised_return(returns, periods_per_year),
            "annual_volatility": annualised_volatility(returns, periods_per_year),
            "sharpe": sharpe_ratio(returns, periods_per_year),
            "max_drawdown": max_drawdown(returns)}


# --- optional downloads (full tier) ------------------------------------------------------

_AKSHARE_COLUMNS = {"日期": "date", "开盘": "open", "最高": "high", "最低": "low", "收盘": "close",
                    "成交量": "volume"}


def market_cache_dir() -> Path:
    """Where downloaded series are cached: <data root>/market."""
    from .data import cache_root

    return cache_root() / "market"


def _safe(symbol: str) -> str:
    return re.sub(r"[^A-Za-z0-9.=-]+", "_", symbol).strip("_") or "symbol"


def cached_files(source: str, symbol: str, cache_dir: Path | None = None) -> list[Path]:
    """Cached CSV files of one series, oldest download first (the date is in the file name)."""
    folder = Path(cache_dir) if cache_dir else market_cache_dir()
    pattern = re.compile(rf"^{re.escape(source)}_{re.escape(_safe(symbol))}_(\d{{4}}-\d\d-\d\d)"
                         r"\.csv$")
    found = [(m.group(1), p) for p in folder.glob("*.csv") if (m := pattern.match(p.name))]
    return [p for _, p in sorted(found)]


def write_csv_atomic(df: pd.DataFrame, path: Path) -> Path:
    """Write a frame as CSV through a temporary file in the same folder, then rename it into place:
    a reader never sees a half-written file, and a crash leaves the old file intact."""
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.name}.", suffix=".part", dir=path.parent)
    try:
        with os.fdopen(fd, "w", encoding="utf-8", newline="") as fh:
            df.to_csv(fh, index_label="date")
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def read_price_csv(path: Path, *,
                   max_gap_days: float | None = DOWNLOAD_MAX_GAP_DAYS) -> pd.DataFrame:
    """Read a cached price CSV (date index, OHLCV columns) and validate it."""
    df = pd.read_csv(path, index_col="date", parse_dates=["date"])
    df.index = pd.DatetimeIndex(df.index, name="date").as_unit("ns")
    df.attrs.update(name=Path(path).stem, source=f"cached download {Path(path).name}")
    return validate_prices(df, max_gap_days=max_gap_days)


def _fetch_yfinance(symbol: str, start: str, end: str | None) -> pd.DataFrame:
    yf = importlib.import_module("yfinance")
    raw = yf.Ticker(symbol).history(start=start, end=end, interval="1d", auto_adjust=False,
                                    actions=False)
    if raw is None or len(raw) == 0:
        raise MarketDownloadError(f"yfinance returned no rows for {symbol!r} (unknown symbol, "
                                  "or no network).")
    idx = pd.DatetimeIndex(raw.index)
    if idx.tz is not None:
        idx = idx.tz_localize(None)
    raw = raw.set_axis(idx.normalize(), axis=0)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    return raw


def _fetch_akshare(symbol: str, start: str, end: str | None) -> pd.DataFrame:
    ak = importlib.import_module("akshare")
    if re.match(r"^(sh|sz|bj)\d{6}$", symbol):  # an index, e.g. sh000001 = SSE Composite
        raw = ak.stock_zh_index_daily(symbol=symbol)
    else:  # an A-share stock code, e.g. 600519
        raw = ak.stock_zh_a_hist(symbol=symbol, period="daily", adjust="")
    if raw is None or len(raw) == 0:
        raise MarketDownloadError(f"akshare returned no rows for {symbol!r}.")
    raw = raw.rename(columns=_AKSHARE_COLUMNS)
    raw.columns = [str(c).strip().lower() for c in raw.columns]
    raw = raw.set_index(pd.DatetimeIndex(pd.to_datetime(raw["date"])))
    lo, hi = pd.Timestamp(start), pd.Timestamp(end) if end else None
    return raw[(raw.index >= lo) & ((raw.index <= hi) if hi is not None else True)]


_FETCHERS = {"yfinance": _fetch_yfinance, "akshare": _fetch_akshare}


def download_prices(source: str, symbol: str, *, start: str = "2000-01-01",
                    end: str | None = None, max_age_days: int | None = None,
                    refresh: bool = False, cache_dir: Path | None = None,
                    today: _dt.date | None = None,
                    max_gap_days: float | None = DOWNLOAD_MAX_GAP_DAYS) -> pd.DataFrame:
    """Download a daily series with yfinance or akshare (optional packages), cached as CSV.

    The cache file is <data root>/market/<source>_<symbol>_<download date>.csv. The newest cached
    file is used unless `refresh` or it is older than `max_age_days`. The download is validated
    (`validate_prices`, after the safe repairs of `repair_prices`) before it is written, and
    written atomically. Raises MarketDownloadError with what to do when the package is missing or
    the download fails, PriceDataError when the downloaded series fails validation."""
    if source not in _FETCHERS:
        raise ValueError(f"unknown source {source!r}; choose one of {SOURCES}.")
    folder = Path(cache_dir) if cache_dir else market_cache_dir()
    today = today or _dt.date.today()
    cached = cached_files(source, symbol, folder)
    if cached and not refresh:
        newest = cached[-1]
        age = (today - _dt.date.fromisoformat(newest.stem.rsplit("_", 1)[1])).days
        if max_age_days is None or age <= max_age_days:
            return read_price_csv(newest, max_gap_days=max_gap_days)
    if importlib.util.find_spec(source) is None:
        raise MarketDownloadError(f"the optional package {source!r} is not installed: "
                                  f"pip install {source} (or pip install 'dlbook[market]')")
    try:
        raw = _FETCHERS[source](symbol, start, end)
    except MarketDownloadError:
        raise
    except Exception as exc:  # the libraries raise anything from URLError to KeyError offline
        raise MarketDownloadError(f"{source} could not download {symbol!r}: "
                                  f"{type(exc).__name__}: {exc}") from exc
    missing = [c for c in OHLCV if c not in raw.columns]
    if missing:
        raise MarketDownloadError(f"{source} returned no {missing} columns for {symbol!r}; "
                                  f"it returned {list(raw.columns)}.")
    df = _frame({c: raw[c].to_numpy() for c in OHLCV}, raw.index, f"{symbol} ({source})",
                f"{source} download of {today.isoformat()}")
    df, notes = repair_prices(df)
    validate_prices(df, max_gap_days=max_gap_days)
    write_csv_atomic(df, folder / f"{source}_{_safe(symbol)}_{today.isoformat()}.csv")
    if notes:
        df.attrs["repairs"] = notes
    return df


def load_prices(name: str = "sp500", *, fallback: str = "sp500", verbose: bool = True,
                **download_kwargs) -> pd.DataFrame:
    """A daily price frame by name: 'goog', 'sp500', or 'yfinance:SYMBOL' / 'akshare:SYMBOL'.

    A download that fails (optional package missing, offline, or a series that fails validation)
    prints why and returns the bundled `fallback` series instead, so a notebook still runs;
    `df.attrs['source']` says what was loaded."""
    if name == "goog":
        return load_goog()
    if name == "sp500":
        return load_sp500()
    source, _, symbol = name.partition(":")
    if source not in SOURCES or not symbol:
        raise ValueError(f"unknown series {name!r}: use one of {BUNDLED}, or 'yfinance:^GSPC', "
                         "'akshare:sh000001' (the SSE Composite), ...")
    try:
        return download_prices(source, symbol, **download_kwargs)
    except (MarketDownloadError, PriceDataError) as exc:
        if fallback not in BUNDLED:
            raise
        if verbose:
            print(f"{exc}\nUsing the bundled {fallback!r} series instead.")
        return load_prices(fallback)
