"""Runs tests/python/typed_user.py: the script the type checkers read must
also do what it says at run time (build, encode, decode, blob round trip)."""

from __future__ import annotations

import typed_user


def test_typed_user_runs() -> None:
    typed_user.main()
