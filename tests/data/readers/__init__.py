"""Tests of ``whyrec.data.readers``, one module per reader module."""

from __future__ import annotations

import warnings

from whyrec.data import load_corpus


def quiet_load(path, **kw):
    """``load_corpus`` with its warnings silenced, for tests about what is read, not what is said."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        return load_corpus(path, **kw)


def write_csv(tmp_path, *rows, name="r.csv"):
    """A CSV of ``rows`` under the header user,item,rating,text."""
    path = tmp_path / name
    path.write_text("\n".join(("user,item,rating,text",) + rows) + "\n")
    return path
