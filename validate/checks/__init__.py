"""One module per result id (docs/theory.md §5), plus cross-result modules (validity maps, minima selection).

Modules are discovered by :func:`validate.registry.discover` (pkgutil); none imports another.  Each
sets ``RESULT`` (its id: a theory id, or its own for cross-result modules, which also set
``DESCRIPTION``) and declares its checks with :func:`validate.registry.check`.
"""
