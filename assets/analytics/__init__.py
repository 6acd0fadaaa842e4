"""Analytics over the conformed model: viral moments, anomalies, forecasts with backtests, plots."""
