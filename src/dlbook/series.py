"""Small real time series that ship inside the package (written out here: a few hundred bytes).

Used by `ch05/03_time_series` (§5.3.2), whose quick and full tiers both read the whole series.
"""
from __future__ import annotations

import pandas as pd

# Monthly totals of international airline passengers, in thousands, January 1949 to
# December 1960, one row per year (Box & Jenkins series G; checked against the copy bundled
# with pmdarima 2.1.1, `pmdarima.datasets.load_airpassengers`).
_AIRLINE_PASSENGERS = (
    112, 118, 132, 129, 121, 135, 148, 148, 136, 119, 104, 118,  # 1949
    115, 126, 141, 135, 125, 149, 170, 170, 158, 133, 114, 140,  # 1950
    145, 150, 178, 163, 172, 178, 199, 199, 184, 162, 146, 166,  # 1951
    171, 180, 193, 181, 183, 218, 230, 242, 209, 191, 172, 194,  # 1952
    196, 196, 236, 235, 229, 243, 264, 272, 237, 211, 180, 201,  # 1953
    204, 188, 235, 227, 234, 264, 302, 293, 259, 229, 203, 229,  # 1954
    242, 233, 267, 269, 270, 315, 364, 347, 312, 274, 237, 278,  # 1955
    284, 277, 317, 313, 318, 374, 413, 405, 355, 306, 271, 306,  # 1956
    315, 301, 356, 348, 355, 422, 465, 467, 404, 347, 305, 336,  # 1957
    340, 318, 362, 348, 363, 435, 491, 505, 404, 359, 310, 337,  # 1958
    360, 342, 406, 396, 420, 472, 548, 559, 463, 407, 362, 405,  # 1959
    417, 391, 419, 461, 472, 535, 622, 606, 508, 461, 390, 432,  # 1960
)


def airline_passengers() -> pd.Series:
    """Monthly international airline passengers (thousands), Jan 1949 - Dec 1960, 144 months.

    The classic series G of Box, G. E. P. and Jenkins, G. M. (1976), *Time Series Analysis:
    Forecasting and Control*, Holden-Day (from the US airline statistics of the time; public
    domain). The same 144 numbers are R's `datasets::AirPassengers` and the `data.csv` of the
    2017 book's companion code. Returns an int64 Series named "passengers" whose index
    ("month") holds the first day of each month.
    """
    months = pd.date_range("1949-01-01", periods=len(_AIRLINE_PASSENGERS), freq="MS",
                           name="month")
    return pd.Series(_AIRLINE_PASSENGERS, index=months, name="passengers", dtype="int64")
