"""Pure figure builders: frames in, plotly Figures out. No Streamlit, no I/O.

``Figure`` is the type they return, named here so the layers above can annotate figures without
importing plotly themselves (plotly's home is this package)."""

from plotly.graph_objects import Figure

__all__ = ["Figure"]
