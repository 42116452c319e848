"""Pure figure builders: frames in, plotly Figures out. No Streamlit, no I/O."""
