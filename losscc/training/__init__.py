"""Training with compiled losses: data, networks, ``Model.train``, comparisons, msrun workers."""
