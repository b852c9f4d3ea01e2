"""The store's accounting, in memory: for the simulation and single-process tests.

`SqlStore` (store.py) does the same in the database, with atomic increments.
"""

from __future__ import annotations

import uuid
from collections.abc import Sequence

from model_router.routing.learned.learner import DecisionRecord, Revision
from model_router.routing.learned.policy import ArmCounts, ArmKey
from model_router.routing.learned.signals import contribution, revision_delta


class MemoryStore:
    def __init__(self) -> None:
        self.arms: dict[ArmKey, ArmCounts] = {}
        self.decisions: dict[uuid.UUID, DecisionRecord] = {}

    def _arm(self, record: DecisionRecord) -> ArmCounts:
        key = (record.pool, record.task_class, record.chosen)
        return self.arms.setdefault(key, ArmCounts())

    def write(self, records: Sequence[DecisionRecord], revisions: Sequence[Revision]) -> None:
        for record in records:
            if record.request_id in self.decisions:
                continue
            self.decisions[record.request_id] = record
            self._arm(record).add(*contribution(record.quality))
        for revision in revisions:
            found = self.decisions.get(revision.request_id)
            if found is None:
                continue
            delta = revision_delta(
                found.quality, found.quality_source, revision.quality, revision.source
            )
            if delta is None:
                continue
            found.quality, found.quality_source = revision.quality, revision.source
            self._arm(found).add(*delta)
