"""A serving process keeps the garbage collector off the request path."""

from __future__ import annotations

import gc

from kumiai.service import COLLECT_AFTER_OBJECTS, tune_garbage_collector


def test_startup_objects_are_frozen_and_young_ones_collected_less_often() -> None:
    tune_garbage_collector()
    assert gc.get_freeze_count() > 0, "what startup built is never scanned again"
    assert gc.get_threshold()[0] == COLLECT_AFTER_OBJECTS
    tune_garbage_collector()  # once per process: a second app changes nothing
    assert gc.get_threshold()[0] == COLLECT_AFTER_OBJECTS
