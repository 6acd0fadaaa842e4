"""Analytics over the conformed model: forecasts, viral moments, anomalies, KPIs, the report."""
