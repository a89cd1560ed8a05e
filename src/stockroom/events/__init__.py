"""Events: the outbox written with every change (record.py), the feed read from it (feed.py).

An event is `{id, type, created_at, data}`; it is inserted in the same transaction as the
change it describes, so there is no change without its event and no event without its
change. `feed.py` numbers committed events in commit order and reads them by that number.
"""
