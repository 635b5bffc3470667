"""The sections a report can hold, in their default order, with the titles users read."""
from __future__ import annotations

SECTIONS: tuple[str, ...] = ("kpis", "trend", "anomalies", "segments", "churn", "products", "recommendations",
                             "leads", "insights")
TITLES: dict[str, str] = {
    "kpis": "Key figures",
    "trend": "Trend and forecast",
    "anomalies": "Unusual days",
    "segments": "Customer segments and RFM",
    "churn": "Customers at risk of leaving",
    "products": "Top products and products bought together",
    "recommendations": "Recommendations (sample)",
    "leads": "Leads",
    "insights": "Insights",
}
