"""The formula language: text → parse tree → IR (for compile) or SymPy (for taylor).

- ``grammar``: the lark grammar (``grammar/loss.lark``) and its parser;
- ``parse``: text → parse tree, with positioned errors;
- ``table``: the one table of functions, variables and constants;
- ``transformer``: what both front ends share (names, errors);
- ``to_ir``, ``to_sympy``: the two front ends;
- ``reduction``: reductions such as mean, -mean, 0.5*sum.
"""
