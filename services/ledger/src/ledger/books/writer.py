"""Group commit: the manual entries that concurrent requests post are written together.

Written one transaction per request, an entry cost three round trips (begin, the
insert, commit) and a commit of its own, and the writers of one hot account
queued on its running-total slots, each holding a slot's row lock until its
own commit. A process's ``EntryWriter`` instead writes the entries that arrive
while its previous groups are being written as one group: one transaction, one
lock phase for all their accounts (decision 0004), one INSERT, one commit.
Nothing waits for a group to fill: an entry that finds a writer idle is
written at once, alone. A group whose accounts this process knows already and
none of which its legs could overdraw (so none is locked) is written by its
INSERT alone, a transaction of its own: one round trip instead of three, and the
running-total slots it updates are held for that one statement only.

What each entry guarantees is unchanged:

- its own idempotency key: an entry whose key is taken (by an earlier request, or
  by another entry of the same group) is not written, and its request replays
  the stored entry, as it would alone;
- the database's checks of every entry (the ``postings_apply`` trigger, the
  balance conditions under the accounts' locks);
- all or nothing per entry: a group that fails is split in halves, each written
  in its own transaction, down to the entry that fails, whose request gets the
  refusal it would have got alone. A database that is unavailable fails the
  whole group at once (each request is answered 503 and retried by its caller).
"""

from __future__ import annotations

from collections.abc import Sequence

from kumiai.group_commit import GroupWriter
from ledger.books import store
from ledger.books.rules import EntryDraft


class EntryWriter(GroupWriter[EntryDraft, "store.Written | None"]):
    """Writes single entries of concurrent requests in groups; one per process. An
    entry's result is ``None`` when its key is taken."""

    stopping = "the ledger is stopping"
    max_group = 200  # the batch endpoint writes 1,000 in one transaction

    async def write_together(self, drafts: Sequence[EntryDraft]) -> list[store.Written | None]:
        # Keys in one order in every group, so that two groups holding the same keys
        # (a caller's retries sent to both processes) wait for each other, never deadlock.
        order = sorted(range(len(drafts)), key=lambda i: drafts[i].idempotency_key)
        ordered = [drafts[i] for i in order]
        legs = [leg for d in ordered for leg in d.legs]
        async with self.unit_of_work() as uow:
            if store.known_and_unlocked(uow.session, legs):
                # Nothing to open or lock: the INSERT alone is the transaction.
                await store.one_statement_transaction(uow.session)
            accounts = await store.lock_accounts(uow.session, legs)
            results = await store.write_each(uow.session, ordered, accounts)
        out: list[store.Written | None] = [None] * len(drafts)
        for position, result in zip(order, results, strict=True):
            out[position] = result
        return out
