"""Tools around a compiled loss: ``check`` (a cell against its references), ``plot``."""
