"""What a loss's shape means for training, decided before any training.

- ``piecewise``: a loss as exact polynomial pieces (SymPy);
- ``analyze``: the findings (bounded below, minimum, symmetry, convexity, growth...);
- ``screen``: the few findings ``losscc compile`` can afford (no SymPy, no NumPy).
"""
