r"""Your own landscape from one formula: :class:`SymbolicLandscape`.

A landscape is given once, as a formula in named coordinates and parameters — a string such as
``"a*(x**2 - 1)**2 + b*y**2"`` or a SymPy expression — and everything else is derived from it:

* value, gradient and Hessian by **symbolic differentiation** (SymPy), so there is no second,
  hand-written copy that could disagree;
* **compiled scalar functions** ``value(x, p)``, ``gradient(x, p, out)``, ``hessian(x, p, out)``
  (the interface of the hand-written landscapes, :class:`~sim.landscapes.LandscapeFunctions`), generated
  as Python source with common subexpressions eliminated and compiled by numba.  The source
  (``numba_functions().source``) uses only scalar arithmetic, array indexing, ``math`` functions and
  one helper ``_sign``: a GPU path (numba-cuda) can compile the same text as device functions with
  its own ``_sign`` (not built yet; PTX compilation could not be tried here: no CUDA toolkit);
* a **vectorised reference** for NumPy arrays and torch tensors (the ``"numpy"`` and ``"torch"``
  backends), generated from the same expressions;
* **critical points** found numerically (multi-start Newton on the gradient inside a box), with their
  Hessians and kinds, so exits across saddles, barriers and local Hessian noise work as on the
  hand-written landscapes (:class:`~sim.landscapes.WellsLandscapeBase`).

Parameters are not frozen into the code: they are read from the flat ``params`` array, so one
compiled function serves every parameter value of a formula, and two formulas never share one (the
kernel disk cache keys generated code by its source, :mod:`sim.backends.compile_cache`).

**No eval.**  A string is parsed by Python's :mod:`ast` into a syntax tree that is walked node by
node against a whitelist — numbers, the declared coordinates and parameters, ``+ - * / **``, unary
minus and calls of the functions in :data:`FUNCTIONS` (and the constant ``pi``) — and the SymPy
expression is built from the tree.  Anything else is refused with an error naming the offending
token.  (SymPy's own ``sympify``/``parse_expr`` evaluate the string with Python's ``eval``.)  The
only code executed is the code this module generates from the checked expression.

Structure detected from the formula: a Hessian free of the coordinates makes a quadratic
(``constant_hessian``: Hessian noise is a constant factor), a diagonal Hessian a fixed eigenbasis
(``hessian_eigenbasis = I``: no eigen-decomposition per step); otherwise Hessian noise uses the
closed-form 2×2/3×3 decomposition (:mod:`sim.symeig`).

``abs`` and ``sign`` are differentiated almost everywhere: the Dirac deltas of their derivatives are
dropped (the Hessian of ``abs(x)`` is 0, not a distribution).

References
----------
docs/theory.md §1 (landscapes), §2 (noise models).
"""
from __future__ import annotations

import ast
import hashlib
import itertools
import keyword
import math
import numbers
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from .. import _xp
from .._jit import jit
from .base import WellFunctions, WellsLandscapeBase

__all__ = ["SymbolicLandscape", "SymbolicFunctions", "parse_formula", "FUNCTIONS", "find_critical_points"]

#: Functions a formula may call (name in a string → SymPy function name).
FUNCTIONS = ("exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh", "asin", "acos", "atan",
             "asinh", "acosh", "atanh", "abs", "sign")
_ALIASES = {"arcsin": "asin", "arccos": "acos", "arctan": "atan", "arcsinh": "asinh", "arccosh": "acosh",
            "arctanh": "atanh", "Abs": "abs"}  # (Abs: SymPy's printed name, so describe()'s formula parses)
_MAX_FORMULA = 20_000  # characters
_MAX_POWER = 1000.0  # |exponent| of a power of two numbers (SymPy would evaluate it exactly)


def _sympy():
    import sympy

    return sympy


def _sympy_functions():
    sp = _sympy()
    table = {name: getattr(sp, name) for name in FUNCTIONS if name not in ("abs",)}
    table["abs"] = sp.Abs
    return table


# ----------------------------------------------------------------------------------------------
# parsing without eval
# ----------------------------------------------------------------------------------------------
def _check_name(kind: str, name) -> str:
    if not isinstance(name, str):
        raise TypeError(f"{kind} names must be strings, got {name!r}")
    if not name.isidentifier() or keyword.iskeyword(name) or name.startswith("_"):
        raise ValueError(f"{kind} name {name!r} must be a Python identifier not starting with '_'")
    if name in FUNCTIONS or name in _ALIASES or name == "pi":
        raise ValueError(f"{kind} name {name!r} is reserved (a function or constant of formulas)")
    return name


def _where(text: str, node) -> str:
    seg = ast.get_source_segment(text, node) if hasattr(node, "lineno") else None
    col = f" at column {node.col_offset + 1}" if hasattr(node, "col_offset") else ""
    return f"{seg!r}{col}" if seg else col.strip()


def parse_formula(text: str, names: dict):
    """SymPy expression of ``text``, built from its Python syntax tree without ``eval``.

    ``names`` maps each allowed identifier (coordinates and parameters) to its SymPy symbol.
    Allowed: int/float literals, those names, the constant ``pi``, ``+ - * / **``, unary ``-``/``+``,
    parentheses and one-argument calls of :data:`FUNCTIONS` (``arctan`` etc. as aliases).  Anything
    else raises ``ValueError`` naming the offending token and its column.
    """
    sp = _sympy()
    if not isinstance(text, str):
        raise TypeError(f"formula must be a string or a SymPy expression, got {type(text).__name__}")
    if len(text) > _MAX_FORMULA:
        raise ValueError(f"formula is longer than {_MAX_FORMULA} characters")
    if not text.strip():
        raise ValueError("formula is empty")
    try:
        tree = ast.parse(text.strip(), mode="eval")
    except SyntaxError as exc:
        raise ValueError(f"formula is not a valid expression: {exc.msg} at column {exc.offset}") from None
    text = text.strip()
    funcs = _sympy_functions()
    binops = {ast.Add: lambda a, b: a + b, ast.Sub: lambda a, b: a - b, ast.Mult: lambda a, b: a * b,
              ast.Div: lambda a, b: a / b}

    def power(a, b, node):
        if a.is_Number and b.is_Number and not (abs(float(b)) <= _MAX_POWER and abs(float(a)) <= 1e300):
            raise ValueError(f"formula: numeric power {_where(text, node)} is too large")
        return a**b

    def build(node):
        if isinstance(node, ast.Expression):
            return build(node.body)
        if isinstance(node, ast.Constant):
            v = node.value
            if isinstance(v, bool) or not isinstance(v, (int, float)):
                raise ValueError(f"formula: constant {_where(text, node)} is not a real number")
            if isinstance(v, float):
                if not math.isfinite(v):
                    raise ValueError(f"formula: number {_where(text, node)} is not finite")
                return sp.Rational(repr(v))  # the exact decimal, which rounds back to v
            return sp.Integer(v)
        if isinstance(node, ast.Name):
            if node.id in names:
                return names[node.id]
            if node.id == "pi":
                return sp.pi
            hint = " (declare it in coords or params)" if node.id.isidentifier() else ""
            raise ValueError(f"formula: unknown name {node.id!r}{hint} at column {node.col_offset + 1}")
        if isinstance(node, ast.BinOp):
            if isinstance(node.op, ast.Pow):
                return power(build(node.left), build(node.right), node)
            op = binops.get(type(node.op))
            if op is None:
                hint = " (use ** for powers)" if isinstance(node.op, ast.BitXor) else ""
                raise ValueError(f"formula: operator {type(node.op).__name__} in {_where(text, node)} is not "
                                 f"allowed{hint}; allowed: + - * / **")
            return op(build(node.left), build(node.right))
        if isinstance(node, ast.UnaryOp) and isinstance(node.op, (ast.USub, ast.UAdd)):
            v = build(node.operand)
            return -v if isinstance(node.op, ast.USub) else v
        if isinstance(node, ast.Call):
            if not isinstance(node.func, ast.Name):
                raise ValueError(f"formula: call of {_where(text, node.func)} is not allowed; "
                                 f"allowed functions: {', '.join(FUNCTIONS)}")
            name = _ALIASES.get(node.func.id, node.func.id)
            if name not in funcs:
                raise ValueError(f"formula: function {node.func.id!r} at column {node.col_offset + 1} is not "
                                 f"allowed; allowed functions: {', '.join(FUNCTIONS)}")
            if node.keywords or len(node.args) != 1 or isinstance(node.args[0], ast.Starred):
                raise ValueError(f"formula: {_where(text, node)}: {node.func.id} takes exactly one argument")
            return funcs[name](build(node.args[0]))
        raise ValueError(f"formula: {type(node).__name__} {_where(text, node)} is not allowed; a formula "
                         "is numbers, names, + - * / **, unary minus and calls of "
                         f"{', '.join(FUNCTIONS)}")

    return build(tree)


def _check_expression(expr, allowed: set):
    """Refuse SymPy nodes the code generator does not handle (naming the first one found)."""
    sp = _sympy()
    func_types = tuple(f for f in _sympy_functions().values() if isinstance(f, type))  # (sqrt makes a Pow)
    for node in sp.preorder_traversal(expr):
        if isinstance(node, sp.Symbol):
            if node not in allowed:
                raise ValueError(f"formula: symbol {node.name!r} is neither a coordinate nor a parameter")
        elif isinstance(node, (sp.Integer, sp.Rational, sp.Float)):
            if not node.is_finite or not node.is_real:
                raise ValueError(f"formula: number {node} is not finite and real")
        elif node is sp.pi or node is sp.E:
            pass
        elif isinstance(node, (sp.Add, sp.Mul, sp.Pow)) or isinstance(node, func_types):
            pass
        else:
            raise ValueError(f"formula: {type(node).__name__} {str(node)[:60]!r} is not allowed; a formula "
                             f"is numbers, symbols, + - * / ** and {', '.join(FUNCTIONS)}")


# ----------------------------------------------------------------------------------------------
# code generation
# ----------------------------------------------------------------------------------------------
@jit(inline=True)
def _sign(v):
    if v > 0.0:
        return 1.0
    if v < 0.0:
        return -1.0
    return v  # 0.0 (or NaN)


class _ArrayMath:
    """The ``math`` namespace of generated array code, backed by NumPy or torch."""

    def __init__(self, xp, torch: bool):
        for name in ("exp", "log", "sqrt", "sin", "cos", "tan", "sinh", "cosh", "tanh"):
            setattr(self, name, getattr(xp, name))
        for name in ("asin", "acos", "atan", "asinh", "acosh", "atanh"):
            setattr(self, name, getattr(xp, name if torch else "arc" + name[1:]))
        self.sign, self.stack, self.zeros_like = xp.sign, xp.stack, xp.zeros_like
        self.pi, self.e = math.pi, math.e


@lru_cache(maxsize=None)
def _array_math(module_name: str) -> _ArrayMath:
    if module_name == "torch":
        import torch

        return _ArrayMath(torch, True)
    return _ArrayMath(np, False)


@lru_cache(maxsize=None)
def _printer(array: bool):
    """Python printer of generated code: ``sign`` as ``_sign`` (compiled) or ``math.sign`` (arrays)."""
    from sympy.printing.pycode import PythonCodePrinter

    class Printer(PythonCodePrinter):
        def _print_sign(self, expr):
            return f"{'math.sign' if array else '_sign'}({self._print(expr.args[0])})"

        # small integer powers as products: numba evaluates x**k (above all k < 0) through a general
        # power routine; a product is what the hand-written landscapes do (measured: the symbolic
        # curved double well ran at 0.72x the hand-written kernel's speed with powers)
        def _print_Pow(self, expr, rational=False):
            e = expr.exp
            if e.is_Integer and 2 <= abs(int(e)) <= 8 and expr.base.is_Symbol:  # (CSE makes most bases symbols)
                prod = "*".join([self._print(expr.base)] * abs(int(e)))
                return f"({prod})" if e > 0 else f"(1/({prod}))"
            return super()._print_Pow(expr, rational=rational)

        # integers beyond 2**53 as floats: numba types integer literals as int64, which would overflow
        def _print_Integer(self, expr):
            return super()._print_Integer(expr) if abs(expr.p) < 2**53 else repr(float(expr))

        def _print_Rational(self, expr):
            if abs(expr.p) < 2**53 and expr.q < 2**53:
                return super()._print_Rational(expr)
            return repr(float(expr))

    return Printer({"fully_qualified_modules": True, "strict": True})


def _cse(exprs):
    """Common subexpressions of ``exprs``: ``(assignments, reduced outputs)``."""
    sp = _sympy()
    return sp.cse(list(exprs), symbols=sp.numbered_symbols("_t"), order="canonical")


@dataclass(frozen=True)
class SymbolicFunctions(WellFunctions):
    """Compiled functions of one formula (:class:`~sim.landscapes.WellFunctions` plus ``value(x, p)``),
    the generated ``source`` they were compiled from, and the vectorised ``array_value``,
    ``array_gradient``, ``array_hessian`` ``(x, p, math)`` used by the NumPy/torch reference."""

    value: object = None
    source: str = ""
    array_source: str = ""
    array_value: object = None
    array_gradient: object = None
    array_hessian: object = None
    array_eigenvalues: object = None


def _generate(key: str, n: int, k: int, value, grad, hess, diagonal: bool):
    """Python sources (scalar/numba and array) of value, gradient, Hessian (and its diagonal)."""
    sc, ar = _printer(False), _printer(True)
    head = [f"    _c{i} = x[{i}]" for i in range(n)] + [f"    _p{j} = p[{j}]" for j in range(k)]
    ahead = ([f"    _c{i} = x[..., {i}]" for i in range(n)] + [f"    _p{j} = p[{j}]" for j in range(k)]
             + ["    _z = math.zeros_like(_c0)"])
    upper = [(i, j) for i in range(n) for j in range(i, n)]
    src, asrc = [], []

    def both(name, args, exprs, scalar_tail, array_tail):
        subs, outs = _cse(exprs)
        for pr, lines, tail, fargs, top in ((sc, src, scalar_tail, args, head),
                                            (ar, asrc, array_tail, "x, p, math", ahead)):
            body = [f"    {pr.doprint(s)} = {pr.doprint(e)}" for s, e in subs]
            lines.extend([f"def {name}_{key}({fargs}):", *top, *body, *tail([pr.doprint(e) for e in outs]), ""])

    both("value", "x, p", [value], lambda o: [f"    return {o[0]}"], lambda o: [f"    return ({o[0]}) + _z"])
    both("gradient", "x, p, out", grad,
         lambda o: [f"    out[{i}] = {e}" for i, e in enumerate(o)],
         lambda o: ["    return math.stack([" + ", ".join(f"({e}) + _z" for e in o) + "], -1)"])

    def hess_scalar(o):
        lines = []
        for (i, j), e in zip(upper, o):
            lines.append(f"    out[{i}, {j}] = {e}")
            if i != j:
                lines.append(f"    out[{j}, {i}] = out[{i}, {j}]")
        return lines

    def hess_array(o):
        lines = [f"    _h{i}_{j} = ({e}) + _z" for (i, j), e in zip(upper, o)]
        rows = ["math.stack([" + ", ".join(f"_h{min(i, j)}_{max(i, j)}" for j in range(n)) + "], -1)"
                for i in range(n)]
        return lines + ["    return math.stack([" + ", ".join(rows) + "], -2)"]

    both("hessian", "x, p, out", [hess[i][j] for i, j in upper], hess_scalar, hess_array)
    if diagonal:
        both("eigenvalues", "x, p, out", [hess[i][i] for i in range(n)],
             lambda o: [f"    out[{i}] = {e}" for i, e in enumerate(o)],
             lambda o: ["    return math.stack([" + ", ".join(f"({e}) + _z" for e in o) + "], -1)"])
    return "\n".join(src), "\n".join(asrc)


@lru_cache(maxsize=None)
def _nearest_critical_point(offset: int):
    """Compiled ``critical_point(x, p, out)``: the nearest (Euclidean) of the critical points stored
    in ``p[offset:]`` as ``[m, points (m*dim)]``."""

    @jit(inline=True)
    def critical_point(x, p, out):
        n = x.shape[0]
        m = int(p[offset])
        best, bd = 0, np.inf
        for c in range(m):
            d = 0.0
            for i in range(n):
                e = x[i] - p[offset + 1 + c * n + i]
                d += e * e
            if d < bd:
                bd, best = d, c
        for i in range(n):
            out[i] = p[offset + 1 + best * n + i] if m > 0 else np.nan

    return critical_point


_COMPILED: dict = {}


def _compile(expr, n: int, k: int):
    """Derive, generate and compile the functions of one formula ``expr`` (in the internal symbols
    ``_c0…``, ``_p0…``); memoised by its canonical form (SymPy ``srepr``), so every instance of a
    formula shares one set of compiled functions.  Returns ``(functions, constant_hessian, diagonal)``."""
    sp = _sympy()
    canonical = sp.srepr(expr)
    hit = _COMPILED.get(canonical)
    if hit is not None:
        return hit
    cs = [sp.Symbol(f"_c{i}", real=True) for i in range(n)]
    grad = [_almost_everywhere(sp.diff(expr, c)) for c in cs]
    hess = [[None] * n for _ in range(n)]
    for i in range(n):
        for j in range(i, n):
            hess[i][j] = hess[j][i] = _almost_everywhere(sp.diff(grad[i], cs[j]))
    constant = all(not (h.free_symbols & set(cs)) for row in hess for h in row)
    diagonal = all(hess[i][j] == 0 for i in range(n) for j in range(n) if i != j)
    key = hashlib.sha256(canonical.encode()).hexdigest()[:16]
    source, array_source = _generate(key, n, k, expr, grad, hess, diagonal)
    # Executing our own generated source (built from the checked expression by SymPy's printer; no
    # user text reaches it verbatim): this is how the functions come into existence.
    scalar_ns = {"__name__": f"optdyn_symbolic_{key}", "math": math, "_sign": _sign}
    exec(compile(source, f"<optdyn symbolic {key}>", "exec"), scalar_ns)
    array_ns = {"__name__": f"optdyn_symbolic_{key}"}
    exec(compile(array_source, f"<optdyn symbolic array {key}>", "exec"), array_ns)

    def compiled(name):
        fn = scalar_ns.get(f"{name}_{key}")
        if fn is None:
            return None
        fn.__optdyn_source__ = source  # the compile cache keys generated code by its source
        return jit(inline=True)(fn)

    fns = SymbolicFunctions(
        gradient=compiled("gradient"), hessian=compiled("hessian"), hessian_eigenvalues=compiled("eigenvalues"),
        critical_point=_nearest_critical_point(k), value=compiled("value"), source=source,
        array_source=array_source, array_value=array_ns[f"value_{key}"],
        array_gradient=array_ns[f"gradient_{key}"], array_hessian=array_ns[f"hessian_{key}"],
        array_eigenvalues=array_ns.get(f"eigenvalues_{key}"))
    _COMPILED[canonical] = (fns, constant, diagonal)
    return _COMPILED[canonical]


def _almost_everywhere(expr):
    """Drop the Dirac deltas of the derivatives of ``abs``/``sign`` (differentiation almost everywhere)."""
    sp = _sympy()
    return expr.replace(sp.DiracDelta, lambda *args: sp.Integer(0)) if expr.has(sp.DiracDelta) else expr


# ----------------------------------------------------------------------------------------------
# critical points
# ----------------------------------------------------------------------------------------------
def _kind(eigenvalues, tol: float) -> str:
    """``"min"``, ``"saddle"`` (index 1), ``"saddle-k"``, ``"max"`` (index dim ≥ 2) or ``"degenerate"``."""
    if np.any(np.abs(eigenvalues) <= tol):
        return "degenerate"
    k = int((eigenvalues < 0).sum())
    n = eigenvalues.size
    return "min" if k == 0 else "saddle" if k == 1 else "max" if k == n else f"saddle-{k}"


def find_critical_points(landscape, box, *, n_starts: int | None = None, seeds=None, seed: int = 0):
    r"""Critical points of ``landscape`` inside ``box``, found by multi-start Newton on the gradient.

    Starts: a regular grid of about ``n_starts`` points in the box (default :math:`9^{dim}` up to
    ``dim`` 3, else 729 uniform random points drawn with ``seed``), plus ``seeds``.  From each,
    :func:`scipy.optimize.root` (hybrid Powell with the analytic Hessian as Jacobian), then Newton
    steps to round-off.  A root counts when :math:`\|\nabla L\| \le 10^{-9}(1 + \|H\|_{max}(1 + \|x\|_{max}))`
    (the round-off of the gradient there) and it lies in the box; roots closer than :math:`10^{-7}`
    of the box size are merged.  Kinds from the signs of the Hessian eigenvalues (zero within
    :math:`10^{-9}\max|\lambda|`: ``"degenerate"``).  A grid search cannot prove that none was
    missed: give ``seeds`` near expected points, or a finer grid, when in doubt.

    Returns
    -------
    points : ndarray ``(m, dim)`` sorted lexicographically, kinds : list of str, hessians : ``(m, dim, dim)``.
    """
    from scipy import optimize

    n = landscape.dim
    box = np.array(box, dtype=np.float64)
    if box.shape != (n, 2) or not np.all(np.isfinite(box)) or not np.all(box[:, 0] < box[:, 1]):
        raise ValueError(f"box must be finite (lo, hi) pairs with lo < hi, one per coordinate ({n}), "
                         f"got {box.tolist()}")
    if n_starts is None:
        n_starts = 9**n if n <= 3 else 729
    n_starts = int(n_starts)
    if n_starts < 1:
        raise ValueError(f"n_starts must be >= 1, got {n_starts}")
    if n <= 3:
        per = max(1, int(round(n_starts ** (1.0 / n))))
        axes = [np.linspace(lo, hi, per + 2)[1:-1] for lo, hi in box]
        starts = np.array(list(itertools.product(*axes)))
    else:
        starts = box[:, 0] + (box[:, 1] - box[:, 0]) * np.random.default_rng(seed).random((n_starts, n))
    if seeds is not None:
        extra = np.array(seeds, dtype=np.float64).reshape(-1, n)
        starts = np.concatenate([extra, starts])
    width = float(np.max(box[:, 1] - box[:, 0]))
    found = []
    with np.errstate(all="ignore"):
        for x0 in starts:
            sol = optimize.root(landscape.gradient, x0, jac=landscape.hessian, method="hybr", tol=1e-13)
            z = sol.x
            for _ in range(4):  # Newton polish to round-off
                h, g = landscape.hessian(z), landscape.gradient(z)
                if not (np.all(np.isfinite(h)) and np.all(np.isfinite(g))):
                    break
                z = z - np.linalg.lstsq(h, g, rcond=None)[0]
            if not np.all(np.isfinite(z)):
                continue
            h, g = landscape.hessian(z), landscape.gradient(z)
            if not np.all(np.isfinite(h)) or np.linalg.norm(g) > 1e-9 * (1 + np.abs(h).max() * (1 + np.abs(z).max())):
                continue
            if np.any(z < box[:, 0] - 1e-9 * width) or np.any(z > box[:, 1] + 1e-9 * width):
                continue
            z = np.where(np.abs(z) <= 1e-14 * width, 0.0, z)  # round-off around a zero coordinate
            if all(np.max(np.abs(z - f)) > 1e-7 * width for f in found):
                found.append(z)
    pts = np.array(found).reshape(-1, n)
    # lexicographic order of the coordinates rounded to the merge tolerance (round-off must not reorder)
    pts = pts[np.lexsort(np.round(pts / (1e-7 * width)).T[::-1])] if len(pts) else pts
    hessians = np.array([landscape.hessian(q) for q in pts]).reshape(-1, n, n)
    kinds = []
    for h in hessians:
        lam = np.linalg.eigvalsh(h)
        kinds.append(_kind(lam, 1e-9 * max(1e-300, np.abs(lam).max())))
    return pts, kinds, hessians


# ----------------------------------------------------------------------------------------------
# the landscape
# ----------------------------------------------------------------------------------------------
class SymbolicLandscape(WellsLandscapeBase):
    r"""A landscape given by one formula; value, gradient and Hessian derived symbolically.

    Example::

        land = sim.SymbolicLandscape("a*(x**2 - 1)**2 + b*y**2", coords=("x", "y"),
                                     params={"a": 1.0, "b": 2.0}, search_box=[(-2, 2), (-2, 2)])
        land.minima, land.saddles, land.barrier()        # found numerically
        sim.Problem(land, sim.HessianNoise(32), sim.SGD(0.05), land.minima[0],
                    exit=land.exit_beyond(0, 0))

    Parameters
    ----------
    formula : str or sympy.Expr
        The loss :math:`L`.  A string is parsed without ``eval`` (:func:`parse_formula`: numbers,
        the names below, ``pi``, ``+ - * / **``, unary minus and :data:`FUNCTIONS`).  A SymPy
        expression may use symbols named like the coordinates and parameters (any assumptions) and
        the same functions.
    coords : sequence of str (or SymPy symbols)
        Coordinate names, in the order of the components of :math:`\theta`; ``dim = len(coords)``.
    params : mapping name → float, optional
        Parameter names and values.  They are read from ``params`` at run time (not compiled in):
        instances that differ only in parameter values share one compiled kernel.
    search_box : array_like ``(dim, 2)``, optional
        ``(lo, hi)`` per coordinate: search it for critical points (:func:`find_critical_points`); without
        it the landscape has no critical points (no ``minima``/``saddles``/``exit_beyond``/local noise).
    seeds : array_like ``(k, dim)``, optional
        Extra starting points of the search.
    n_starts : int, optional
        Size of the start grid (see :func:`find_critical_points`).

    Attributes
    ----------
    expression : sympy.Expr — the formula in the user's symbols; ``gradient_expressions``,
    ``hessian_expressions`` likewise; ``critical_hessians`` ``(m, dim, dim)``; ``constant_hessian``
    (a quadratic) and ``hessian_eigenbasis`` (``I`` when the Hessian is diagonal for every
    :math:`\theta`, else ``None``).  ``numba_functions()`` returns :class:`SymbolicFunctions`.

    Regions (for :class:`~sim.noise.LocalHessianNoise`): nearest critical point (Euclidean).
    """

    def __init__(self, formula, coords, params=None, *, search_box=None, seeds=None, n_starts: int | None = None):
        sp = _sympy()
        if isinstance(coords, (str, sp.Symbol)):
            coords = (coords,)
        coords = tuple(getattr(c, "name", c) for c in coords)
        if len(coords) < 1:
            raise ValueError("coords must name at least one coordinate")
        params = {} if params is None else params
        if not hasattr(params, "items"):
            raise TypeError(f"params must be a mapping name -> value, got {type(params).__name__}")
        pnames = tuple(getattr(k, "name", k) for k in params)
        for name in coords:
            _check_name("coordinate", name)
        for name in pnames:
            _check_name("parameter", name)
        dup = [n for n in coords + pnames if (coords + pnames).count(n) > 1]
        if dup:
            raise ValueError(f"names must be unique across coords and params, {dup[0]!r} repeats")
        values = []
        for key, v in params.items():
            name = getattr(key, "name", key)
            if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
                raise ValueError(f"params[{name!r}] must be a finite real number, got {v!r}")
            values.append(float(v))
        self.coords, self.param_names = coords, pnames
        self.param_values = dict(zip(pnames, values))
        self.dim = len(coords)
        user = {name: sp.Symbol(name, real=True) for name in coords + pnames}
        if isinstance(formula, str):
            expr = parse_formula(formula, user)
            self.formula = formula.strip()
        elif isinstance(formula, sp.Basic):
            unknown = sorted(s.name for s in formula.free_symbols if s.name not in user)
            if unknown:
                raise ValueError(f"formula: symbol {unknown[0]!r} is neither a coordinate nor a parameter")
            expr = formula.xreplace({s: user[s.name] for s in formula.free_symbols})
            expr = expr.xreplace({f: sp.Rational(repr(float(f))) for f in expr.atoms(sp.Float)})
            self.formula = str(formula)
        else:
            raise TypeError(f"formula must be a string or a SymPy expression, got {type(formula).__name__}")
        _check_expression(expr, set(user.values()))
        self.expression = expr
        internal = {user[c]: sp.Symbol(f"_c{i}", real=True) for i, c in enumerate(coords)}
        internal.update({user[q]: sp.Symbol(f"_p{j}", real=True) for j, q in enumerate(pnames)})
        self._internal = expr.xreplace(internal)
        self._functions, self.constant_hessian, diagonal = _compile(self._internal, self.dim, len(pnames))
        self.hessian_eigenbasis = np.eye(self.dim) if diagonal else None
        self._pvals = values
        cs = [user[c] for c in coords]
        self.gradient_expressions = [sp.diff(expr, c) for c in cs]
        self.hessian_expressions = [[sp.diff(g, c) for c in cs] for g in self.gradient_expressions]
        self._set_critical_points(np.zeros((0, self.dim)), [])
        if search_box is not None or seeds is not None:
            box = search_box
            if box is None:  # seeds only: a box around them
                s = np.array(seeds, dtype=np.float64).reshape(-1, self.dim)
                pad = 1.0 + np.abs(s).max()
                box = np.stack([s.min(axis=0) - pad, s.max(axis=0) + pad], axis=1)
            pts, kinds, _ = find_critical_points(self, box, n_starts=n_starts, seeds=seeds)
            self._set_critical_points(pts, kinds)

    def _set_critical_points(self, points, kinds):
        self._crit = np.asarray(points, dtype=np.float64).reshape(-1, self.dim)
        self._kinds = list(kinds)
        self.critical_hessians = np.array([self.hessian(q) for q in self._crit]).reshape(-1, self.dim, self.dim)
        self.params = np.concatenate([self._pvals, [len(self._crit)], self._crit.ravel()])

    # -- pickling (e.g. to Dask workers): the generated functions are rebuilt from the formula ----
    def __getstate__(self):
        state = dict(self.__dict__)
        del state["_functions"]
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._functions = _compile(self._internal, self.dim, len(self.param_names))[0]

    # -- vectorised reference (NumPy arrays or torch tensors) --------------------------------
    def _call(self, fn, x):
        x = self._points(x)
        return fn(x, self._pvals, _array_math("torch" if _xp.is_torch(x) else "numpy"))

    def value(self, x):
        return self._call(self._functions.array_value, x)

    def gradient(self, x):
        return self._call(self._functions.array_gradient, x)

    def hessian(self, x):
        return self._call(self._functions.array_hessian, x)

    def hessian_eigenvalues(self, x):
        """Diagonal of the Hessian, when it is diagonal everywhere (``hessian_eigenbasis = I``)."""
        if self._functions.array_eigenvalues is None:
            raise AttributeError("the Hessian of this formula is not diagonal: no fixed eigenbasis")
        return self._call(self._functions.array_eigenvalues, x)

    # -- geometry -----------------------------------------------------------------------------
    def region_of(self, x):
        """Index of the nearest critical point (Euclidean)."""
        if len(self._crit) == 0:
            raise ValueError("this landscape has no critical points: give search_box (or seeds)")
        x = self._points(x)
        d = ((x[..., None, :] - _xp.asarray_like(self._crit, x)) ** 2).sum(axis=-1)
        return d.argmin(axis=-1)

    def local_critical_point(self, x):
        self.region_of(np.zeros(self.dim))  # the clear error when there are none
        return super().local_critical_point(x)

    def numba_functions(self) -> SymbolicFunctions:
        """Compiled functions of this formula (shared by every instance with the same formula)."""
        return self._functions

    def describe(self) -> dict:
        return {**super().describe(), "formula": str(self.expression), "coords": list(self.coords),
                "params": dict(self.param_values), "critical_points": self._crit.tolist(),
                "critical_kinds": list(self._kinds)}

    def __repr__(self):
        ps = ", ".join(f"{k}={v!r}" for k, v in self.param_values.items())
        return f"SymbolicLandscape({self.formula!r}, coords={self.coords}" + (f", params={{{ps}}})" if ps else ")")
