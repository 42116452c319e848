"""The Streamlit edge: cached data access, URL-bound pickers, safe text and the one CSV export.

Only this package, ``dashboard/app.py`` and ``dashboard/app_pages/`` import streamlit.
"""
