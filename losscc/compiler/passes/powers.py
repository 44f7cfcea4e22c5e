"""Integer powers → Square and Mul, along shortest addition chains.

An addition chain for n is 1 = a0 < a1 < ... < ar = n where each element is
the sum of two earlier ones; x^n then takes r operations: a doubling is a
Square, any other sum a Mul. The shortest chain's length is l(n) (OEIS
A003313): x^15 takes 5 operations (1, 2, 4, 5, 10, 15), x^64 takes 6.

Up to EXACT_LIMIT the chain is found by an exhaustive search over star
chains (each step adds the previous element to an earlier one), which are
optimal for every n below 12509. Beyond it, the shortest of the binary method
and the factor and n-1 constructions is used: never longer than binary.

>>> chain(15)
(1, 2, 4, 5, 10, 15)
>>> len(chain(64)) - 1
6
"""
from __future__ import annotations

import functools
from typing import Optional

from ... import ir
from ...ir.patterns import Pat, Rule, RuleSet, rewrite

EXACT_LIMIT = 128
FILL_LIMIT = 4096


@functools.lru_cache(maxsize=None)
def chain(n: int) -> tuple[int, ...]:
    """A shortest (n <= EXACT_LIMIT) or short addition chain ending in n."""
    if n < 1:
        raise ValueError(f"addition chains start at 1, got {n}")
    if n <= EXACT_LIMIT:
        return _shortest_star_chain(n)
    if n > FILL_LIMIT:  # never asked for by the compiler (powers stop at 1024)
        return _binary_chain(n)
    for m in range(EXACT_LIMIT + 1, n):  # fill the cache upwards: no deep recursion
        chain(m)
    candidates = [_binary_chain(n), chain(n - 1) + (n,)]
    for p in range(2, int(n**0.5) + 1):
        if n % p == 0:  # x^n = (x^p)^(n/p): chain(p), then chain(n/p) scaled by p
            for a, b in ((p, n // p), (n // p, p)):
                candidates.append(chain(a) + tuple(a * c for c in chain(b)[1:]))
    return min(candidates, key=len)  # first of the shortest: deterministic


def _binary_chain(n: int) -> tuple[int, ...]:
    """Left-to-right square-and-multiply."""
    out = [1]
    for bit in bin(n)[3:]:
        out.append(out[-1] * 2)
        if bit == "1":
            out.append(out[-1] + 1)
    return tuple(out)


def _shortest_star_chain(n: int) -> tuple[int, ...]:
    if n == 1:
        return (1,)
    bound = n.bit_length() - 1  # l(n) >= log2(n)
    while True:
        found = _search([1], n, bound)
        if found is not None:
            return tuple(found)
        bound += 1


def _search(prefix: list[int], n: int, bound: int) -> Optional[list[int]]:
    """Depth-first search for a star chain to n of at most ``bound`` steps.

    A loop over an explicit stack (the passes never recurse), visiting chains
    in the order a recursive search would: larger sums first, so doublings
    (Squares) are preferred.
    """
    stack = [prefix]
    while stack:
        chain_ = stack.pop()
        last = chain_[-1]
        if last == n:
            return chain_
        steps_left = bound - (len(chain_) - 1)
        if steps_left <= 0 or last << steps_left < n:
            continue
        # Pushed smallest first, so that the largest sum is popped (tried) first.
        stack.extend(chain_ + [last + earlier] for earlier in chain_ if last + earlier <= n)
    return None


def power(x: ir.Node, n: int) -> ir.Node:
    """x^n as Square/Mul nodes along ``chain(n)``."""
    if n == 0:
        return ir.const(1.0)
    steps = chain(n)
    made = {1: x}
    for k in steps[1:]:
        # The pair that sums to k: prefer a doubling (Square), else the largest part.
        if k % 2 == 0 and k // 2 in made:
            made[k] = ir.square(made[k // 2])
            continue
        big = max(a for a in made if k - a in made)
        made[k] = ir.mul(made[big], made[k - big])
    return made[n]


ADDITION_CHAIN = RuleSet([Rule("addition-chain", Pat("pow", (Pat.any("x"),), name="p"),
                               lambda x, p: power(x, p.value),
                               "Square/Mul along the addition chain of n")])


def lower_powers(root: ir.Node) -> ir.Node:
    """Replace every pow node by its addition chain."""
    return rewrite(root, ADDITION_CHAIN)


def count_ops(root: ir.Node) -> int:
    """The operations ``root`` performs once lowered (robust losses, powers) as emitted."""
    from .robust import lower_robust

    return sum(ir.op_counts(lower_powers(lower_robust(root))).values())
