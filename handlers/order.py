"""python-telegram-bot handler groups, lowest first: who sees an update before whom.

SEEN: every update, to keep the sender in the directory (never stops it). EARLY: flows that take over a
chat while they run (a notice being written, /mute, /grant) and stop the update when they answer. The
router's handlers sit in the default group 0 after them.
"""

SEEN = -2
EARLY = -1
LATE = 100  # after every handler: what the update still owes (a first contact's directory row)

__all__ = ["EARLY", "LATE", "SEEN"]
