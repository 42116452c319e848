"""AI-capex versus divestment analytics: loaders, metrics, charts and a Streamlit app."""
