"""Written by hand? The rule of the formula questions: the student's function may not use rfmaps or torch.

Two checks, one for a clear message and one that cannot be talked round:

* :func:`packages_used` reads the function without running it: the globals its
  code loads (imports included), its closure and defaults, the helpers of the
  notebook it calls, and the names in its source text. It names what it finds,
  but a class kept in a dict or reached through ``globals()`` hides from it.
* :func:`call_watched` runs the function with a profiler (``sys.setprofile``) and
  refuses the call when code of the package directory (or torch's) starts running
  from code outside it, however the function got there (a dict, ``globals()``, a
  default, ``functools.partial``, a method, ``type(x)``, a thread).

Accepted: a function written with ``def`` or ``lambda``, and one decorated with
``functools.lru_cache`` or wrapped in ``numpy.vectorize`` (their calls run only the
student's code, which is judged as above; a cache is emptied before grading so
every graded value is computed under the watch).

>>> call_watched(lambda n: n + 1, (4,))
5
>>> from rfmaps import Conv2d
>>> TOOLS = {"conv": Conv2d}
>>> call_watched(lambda n: TOOLS["conv"](1, 1, 3).output_size(n)[0], (8,))
Traceback (most recent call last):
...
rfmaps.check.byhand.PackageReached: Conv2d.__post_init__ (rfmaps/layers/conv.py) ran while your function was running
"""

from __future__ import annotations

import os
import sys
import types
from typing import Callable, Iterable, List, Optional, Sequence

from .answers import as_plain

#: Packages a function written by hand may not reach: each computes the answer itself.
FORBIDDEN = ("rfmaps", "torch")


def _root(module_name) -> str:
    return module_name.split(".")[0] if isinstance(module_name, str) else ""


# ---------------------------------------------------------------------------------------------
# Which function to read
# ---------------------------------------------------------------------------------------------

def _is_lru_cache(function) -> bool:
    return type(function).__name__ == "_lru_cache_wrapper" and type(function).__module__ == "functools"


def _is_vectorize(function) -> bool:
    return type(function).__name__ == "vectorize" and _root(type(function).__module__) == "numpy"


def own_code(function) -> Optional[types.FunctionType]:
    """The Python function whose code runs when ``function`` is called: itself, the function under
    ``functools.lru_cache`` or inside ``numpy.vectorize``; None for anything else (a partial, a class...)."""
    for _ in range(4):  # a few layers of decoration at most
        if isinstance(function, types.FunctionType):
            return function
        if _is_lru_cache(function):
            function = function.__wrapped__
        elif _is_vectorize(function):
            function = function.pyfunc
        else:
            return None
    return None


def forget_cache(function) -> None:
    """Empty an ``lru_cache`` (at any depth), so that every value graded is computed while watched."""
    for _ in range(4):
        if _is_lru_cache(function):
            function.cache_clear()
            function = function.__wrapped__
        elif _is_vectorize(function):
            function = function.pyfunc
        else:
            return


# ---------------------------------------------------------------------------------------------
# Read without running: a clear message for the plain cases
# ---------------------------------------------------------------------------------------------

def _source_names(function) -> set:
    """The names in the function's source text, comments and strings left out ('' when there is no source)."""
    import inspect  # here, not at import: only the by-hand rule needs these (inspect alone takes 5 ms)
    import io
    import tokenize

    try:
        text = inspect.getsource(function)
    except (OSError, TypeError):
        return set()
    names = set()
    try:
        for token in tokenize.generate_tokens(io.StringIO(text).readline):
            if token.type == tokenize.NAME:
                names.add(token.string)
    except (tokenize.TokenError, SyntaxError, IndentationError):  # an indented method's source, say
        pass
    return names


def _codes(code) -> Iterable[types.CodeType]:
    """``code`` and every code object nested in it (inner functions, comprehensions, lambdas)."""
    yield code
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):
            yield from _codes(constant)


def _loaded(code) -> tuple:
    """``(globals loaded, modules imported)`` by ``code`` alone: attribute names (``ns.layer``) are not globals."""
    import dis

    loaded, imported = set(), set()
    for instruction in dis.get_instructions(code):
        if instruction.opname in ("LOAD_GLOBAL", "LOAD_NAME"):
            loaded.add(instruction.argval)
        elif instruction.opname == "IMPORT_NAME":
            imported.add(_root(instruction.argval))
    return loaded, imported


def packages_used(function, forbidden: Sequence[str] = FORBIDDEN) -> List[str]:
    """How ``function`` visibly reaches a ``forbidden`` package: one line per way, empty when it does not.

    Read from the function itself, not by running it: the globals its code loads
    (imports included) and what they stand for, its closure and defaults, the same
    for every function of the notebook it calls, string constants that name a
    package (``__import__("rfmaps")``), and the names in its source text outside
    comments and strings. What hides inside a container or an object is left to
    :func:`call_watched`.

    Examples
    --------
    >>> from rfmaps import Conv2d
    >>> packages_used(lambda n, k: Conv2d(1, 1, k).output_size(n)[0])
    ['Conv2d (from rfmaps.layers.conv)']
    >>> packages_used(lambda n, k: n - k + 1)
    []
    """
    found: List[str] = []
    seen, named_ones = set(), set()

    def judge(name: str, value, depth: int) -> None:
        if isinstance(value, types.ModuleType):
            module = value.__name__
        else:
            own = getattr(value, "__module__", None)
            module = own if isinstance(own, str) and _root(own) in forbidden else type(value).__module__
        if _root(module) in forbidden:
            found.append(name if isinstance(value, types.ModuleType) else f"{name} (from {module})")
            named_ones.add(name)
        elif depth < 8:
            helper = own_code(value)
            if helper is not None:
                walk(helper, depth + 1)  # a helper the student wrote, which may call the package

    def walk(fn: types.FunctionType, depth: int) -> None:
        if id(fn) in seen:
            return
        seen.add(id(fn))
        loaded: set[str] = set()
        for code in _codes(fn.__code__):
            names, imported = _loaded(code)
            loaded |= names
            for name in sorted(imported & set(forbidden)):  # imported inside the function
                found.append(f"import {name}")
                named_ones.add(name)
            for constant in code.co_consts:
                if isinstance(constant, str) and _root(constant.strip()) in forbidden:
                    found.append(f"the text {constant!r}")
        for name in sorted(loaded):
            if name in fn.__globals__:
                judge(name, fn.__globals__[name], depth)
        for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or ()):
            try:
                judge(name, cell.cell_contents, depth)
            except ValueError:  # an empty cell
                pass
        for value in list(fn.__defaults__ or ()) + list((fn.__kwdefaults__ or {}).values()):
            judge(repr(value)[:40], value, depth)
        for name in sorted(_source_names(fn) & set(forbidden) - named_ones):
            found.append(f"{name} in its code")

    code = own_code(function)
    if code is not None:
        walk(code, 0)
    else:
        judge(repr(function)[:40], function, 8)
    return list(dict.fromkeys(found))


def not_a_function(function, name: str) -> Optional[str]:
    """The sentence refusing anything but a Python function (def or lambda, maybe under ``lru_cache`` or
    ``np.vectorize``): a partial, a class or a built-in hides the code the rule reads."""
    if own_code(function) is not None:
        return None
    given = repr(as_plain(function))
    return (f"{name} must be a function you write with def, like def {name}(...): ... return ...; "
            f"you gave {given[:57] + '...' if len(given) > 60 else given}.")


def uses_the_package(name: str, how: str) -> str:
    return (f"Your {name} uses the package ({how}): this question asks for the formula itself, written with "
            "plain Python arithmetic (math and numpy are fine), so it gets no points this way.")


def written_by_hand(function, name: str) -> Optional[str]:
    """The sentence refusing ``function`` (not a function, or visibly reaching a forbidden package), or None."""
    problem = not_a_function(function, name)
    if problem:
        return problem
    used = packages_used(function)
    if used:
        return uses_the_package(name, ", ".join(used[:3]))
    return None


# ---------------------------------------------------------------------------------------------
# Run under watch: what cannot hide
# ---------------------------------------------------------------------------------------------

class PackageReached(Exception):
    """Code of rfmaps or torch ran while the student's function was running."""


_WATCHED: Optional[tuple] = None


def watched_directories() -> tuple:
    """The directories of rfmaps and torch (torch's found without importing it), each ending in a separator."""
    global _WATCHED
    if _WATCHED is None:
        import importlib.util

        here = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))  # the rfmaps package
        places = [here]
        spec = importlib.util.find_spec("torch") if "torch" not in sys.modules else sys.modules["torch"].__spec__
        for place in (spec.submodule_search_locations or []) if spec is not None else []:
            places.append(os.path.abspath(place))
        _WATCHED = tuple(os.path.join(place, "") for place in places)
    return _WATCHED


def _short(path: str) -> str:
    """``rfmaps/layers/conv.py`` for a file of a watched package: the path from the package's parent."""
    for place in watched_directories():
        if path.startswith(place):
            return os.path.relpath(path, os.path.dirname(os.path.dirname(place)))
    return path


def _package_of(function) -> str:
    """The top-level package a compiled function or bound method belongs to ('' when unknown)."""
    module = getattr(function, "__module__", None)
    owner = getattr(function, "__self__", None)
    if not module and owner is not None:
        module = owner.__name__ if isinstance(owner, types.ModuleType) else type(owner).__module__
    return (module or "").split(".")[0]


def _compiled_in_package(function) -> bool:
    return _package_of(function) in ("torch", "rfmaps")


class _NoWatch:
    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False


def _torch_watch(entered: List[str]):
    """While torch is loaded, a torch function mode that notes every torch function the call reaches.

    The profiler sees a compiled torch function only when Python code calls it; one called by C code
    (``map(torch.conv2d, ...)``, ``operator.call``) or a tensor used through its operators slips past
    it, but not past torch's own dispatch (found by the third review).
    """
    torch = sys.modules.get("torch")
    if torch is None:  # nothing of torch can run without it loaded
        return _NoWatch()
    from torch.overrides import TorchFunctionMode

    class Watch(TorchFunctionMode):
        def __torch_function__(self, func, types, args=(), kwargs=None):
            if not entered:
                entered.append(f"{getattr(func, '__name__', func)} (torch)")
            return func(*args, **(kwargs or {}))

    return Watch()


def call_watched(function: Callable, arguments: tuple, read: Optional[Callable] = None):
    """``function(*arguments)`` (then ``read`` of the value, when given), refusing with :class:`PackageReached`
    when code of rfmaps or torch starts running from code that is not theirs during the call.

    The profiler in place before is restored afterwards, also when the function raises. Code of the package
    called by the package itself (``read``, which may call the value's ``tolist``) is not the student's: only
    an entry into the package from outside it counts, so a value whose ``tolist`` calls rfmaps is caught too.
    """
    places = watched_directories()
    here = sys._getframe()
    entered: List[str] = []

    def profiler(frame, event, argument):
        # (This module's own torch watch runs as torch calls it: it reports what it sees itself.)
        if (event == "call" and not entered and frame.f_code.co_filename.startswith(places)
                and frame.f_code.co_filename != __file__):
            caller = frame.f_back
            if caller is not here and (caller is None or not caller.f_code.co_filename.startswith(places)):
                entered.append(f"{frame.f_code.co_qualname} ({_short(frame.f_code.co_filename)})")
        # A compiled function of the packages (torch.conv2d kept in a dict) starts no Python code of
        # theirs, so it is caught by its module when code outside them calls it.
        elif (event == "c_call" and not entered and frame is not here
              and not frame.f_code.co_filename.startswith(places) and _compiled_in_package(argument)):
            entered.append(f"{getattr(argument, '__qualname__', argument)!s} (compiled, {_package_of(argument)})")

    import threading

    previous, previous_threads = sys.getprofile(), threading.getprofile()
    # The torch mode is entered outside the profiler: entering it calls compiled torch code itself.
    with _torch_watch(entered):
        sys.setprofile(profiler)
        threading.setprofile(profiler)  # a thread the function starts is watched too
        try:
            value = function(*arguments)
            switched = sys.getprofile() is not profiler
            if read is not None and not switched:
                value = read(value)
        finally:
            sys.setprofile(previous)
            threading.setprofile(previous_threads)
    if switched:
        raise PackageReached("your function switched off the profiler that watches it (sys.setprofile)")
    if entered:
        raise PackageReached(f"{entered[0]} ran while your function was running")
    return value
