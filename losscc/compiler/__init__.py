"""The compiler: IR → optimised IR → straight-line program → Python source → a loaded cell.

- ``passes``: constant folding, identities (rules as data), polynomials, addition chains;
- ``schedule``: the straight-line program, one named step per operation;
- ``emit``: the Python source of a LossBase subclass;
- ``load``: that source, through the cache, to a class MindSpore can compile;
- ``program``: ``Program`` and ``build``, which run the whole road;
- ``fuse``, ``runtime``: what running cells in MindSpore needs (fusion, modes).
"""
