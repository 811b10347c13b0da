"""The Streamlit dashboard: Gold KPIs, data quality, run history and the engine comparison, read from the lake."""
