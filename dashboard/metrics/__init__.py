"""Pure pandas/numpy metrics: no files, network, clock or session state."""
