"""Loaders: the only layer that reads files or the network. See ``curated`` and ``refresh``."""
