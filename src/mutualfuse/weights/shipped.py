"""The table of weights files that ship with the package (filled in as models are trained)."""
