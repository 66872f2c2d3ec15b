"""Definitions loaded by ``dg.load_from_defs_folder``: one module per concern.

A module holding a ``@dg.definitions`` function contributes only what that function
returns and nothing else defined in it, which is why resources live alone in ``resources.py``.
"""
