"""The estimation-window fit of the event-study engine: closed-form OLS for every event at once.

``fit_estimation`` takes (events x estimation days) stock and benchmark returns and the days each
event may use, and returns an ``EstimationFit`` (alpha, beta, sigma, the benchmark's mean and
centred sum of squares, residuals, days used). ``standardization_factor`` is the one-day
forecast-error correction of the standardized abnormal returns. The models are documented in
``metrics.event_study``.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

FIT_ROWS = 256  # events per pass of the OLS fit: its (events x estimation days) scratch arrays stay in the CPU cache


@dataclass(frozen=True)
class EstimationFit:
    """Per event (rows): the fitted parameters, the benchmark's estimation mean and centred sum of
    squares (NaN unless the market model), the residuals per estimation day and the days used."""

    alpha: np.ndarray
    beta: np.ndarray
    sigma: np.ndarray
    market_mean: np.ndarray
    market_sxx: np.ndarray
    residuals: np.ndarray  # NaN on the days left out of the fit
    n: np.ndarray


def _zero_filled_sums(values: np.ndarray, invalid: np.ndarray, out: np.ndarray) -> np.ndarray:
    """Row sums of ``values`` with the ``invalid`` days counted as zero (``out``: scratch space)."""
    np.copyto(out, values)
    np.copyto(out, 0.0, where=invalid)
    return out.sum(axis=1)


def fit_estimation(stock: np.ndarray, market: np.ndarray, valid: np.ndarray, model: str) -> EstimationFit:
    """Closed-form OLS per event over the ``valid`` estimation days (see the models in
    ``metrics.event_study``). ``market`` is ignored for the constant-mean model.

    The arithmetic is the textbook one (means, then centred sums of squares and products, days
    left out counted as zero), row by row, so it is computed ``FIT_ROWS`` events at a time, in
    place in scratch arrays that stay in the CPU cache: the passes over (events x days) are
    bound by memory traffic, not arithmetic."""
    rows = len(stock)
    per_event = {name: np.empty(rows) for name in ("alpha", "beta", "sigma", "market_mean", "market_sxx", "n")}
    fit = EstimationFit(**per_event, residuals=np.empty(stock.shape))
    for start in range(0, rows, FIT_ROWS):
        part = slice(start, start + FIT_ROWS)
        _fit_rows(stock[part], market[part], valid[part], model, fit, part)
    return fit


def _fit_rows(stock: np.ndarray, market: np.ndarray, valid: np.ndarray, model: str, fit: EstimationFit, part: slice) -> None:
    """``fit_estimation`` of some events, written into the rows ``part`` of ``fit``."""
    n = np.count_nonzero(valid, axis=1).astype(float)
    fit.n[part] = n
    invalid, residuals = ~valid, fit.residuals[part]
    work = np.empty_like(stock)
    with np.errstate(invalid="ignore", divide="ignore"):
        stock_mean = _zero_filled_sums(stock, invalid, work) / n
        if model == "market":
            market_deviation = np.empty_like(market)
            market_mean = _zero_filled_sums(market, invalid, market_deviation) / n
            np.subtract(market, market_mean[:, None], out=market_deviation)
            np.copyto(market_deviation, 0.0, where=invalid)
            market_sxx = np.multiply(market_deviation, market_deviation, out=work).sum(axis=1)
            np.subtract(stock, stock_mean[:, None], out=work)  # the stock's deviation
            np.copyto(work, 0.0, where=invalid)
            beta = np.multiply(market_deviation, work, out=work).sum(axis=1) / market_sxx
            alpha, parameters = stock_mean - beta * market_mean, 2
        else:
            market_mean = market_sxx = np.full(len(n), np.nan)
            if model == "constant_mean":
                alpha, beta, parameters = stock_mean, np.full(len(n), np.nan), 1
            else:
                alpha, beta, parameters = np.zeros(len(n)), np.ones(len(n)), 1
        np.subtract(stock, alpha[:, None], out=residuals)
        if model != "constant_mean":
            np.subtract(residuals, np.multiply(beta[:, None], market, out=work), out=residuals)
        np.copyto(residuals, np.nan, where=invalid)
        if model in ("market", "constant_mean"):
            sigma = np.sqrt(_zero_filled_sums(np.multiply(residuals, residuals, out=work), invalid, work) / (n - parameters))
        else:
            residual_mean = _zero_filled_sums(residuals, invalid, work) / n
            np.subtract(residuals, residual_mean[:, None], out=work)
            np.copyto(work, 0.0, where=invalid)
            sigma = np.sqrt(np.multiply(work, work, out=work).sum(axis=1) / (n - 1))
    fit.alpha[part], fit.beta[part], fit.sigma[part] = alpha, beta, sigma
    fit.market_mean[part], fit.market_sxx[part] = market_mean, market_sxx


def standardization_factor(model: str, fit: EstimationFit, market_event: np.ndarray) -> np.ndarray:
    """``c_t`` of ``SAR_t = AR_t / (sigma sqrt(c_t))``: the one-day forecast-error correction."""
    with np.errstate(invalid="ignore", divide="ignore"):
        if model == "market":
            return 1.0 + 1.0 / fit.n[:, None] + (market_event - fit.market_mean[:, None]) ** 2 / fit.market_sxx[:, None]
        if model == "constant_mean":
            return np.broadcast_to((1.0 + 1.0 / fit.n)[:, None], market_event.shape)
        return np.ones_like(market_event)
