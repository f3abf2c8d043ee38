"""``whyrec.data``'s names, loaded on first use so that loading a saved model imports no pandas."""

import ast
import subprocess
import sys
from pathlib import Path

import pytest


def test_every_listed_name_is_found_where_the_package_says():
    import whyrec.data as data
    from whyrec.data.corpus import Corpus as from_its_module

    star: dict = {}
    exec("from whyrec.data import *", star)  # every name of __all__ must load
    assert set(data.__all__) <= set(star)

    assert data.Corpus is from_its_module and set(data.__all__) <= set(dir(data))
    assert all(callable(getattr(data, name)) for name in data.__all__)
    with pytest.raises(AttributeError, match="no attribute 'Corpse'"):
        data.Corpse


def test_a_submodule_is_reached_from_the_package_alone():
    code = ("import whyrec.data\n"
            "print(whyrec.data.split.ratio_split.__module__, whyrec.data.readers.load_corpus.__module__)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["whyrec.data.split", "whyrec.data.readers.loading"]


def test_type_checkers_read_the_names_the_package_loads_from_the_same_modules():
    """The imports under ``TYPE_CHECKING`` (what editors and type checkers read), ``__all__`` and
    the table the package loads names by are written apart; they must list the same names."""
    import whyrec.data as data

    tree = ast.parse(Path(data.__file__).read_text(encoding="utf-8"))
    checked = next(node for node in tree.body if isinstance(node, ast.If) and ast.unparse(node.test) == "TYPE_CHECKING")
    typed = {alias.name: node.module for node in checked.body for alias in node.names}
    assert typed == data._MODULE_OF and sorted(data.__all__) == sorted(typed)


def test_importing_the_package_or_its_ids_imports_no_pandas():
    code = ("import sys, whyrec.data, whyrec.ids, whyrec.data.text, whyrec.data.scale\n"
            "print('pandas' in sys.modules)\n"
            "whyrec.data.load_corpus\n"
            "print('pandas' in sys.modules)")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "True"]  # until a reader is asked for
