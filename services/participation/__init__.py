"""Residents take part: 社区合伙人 and 居民点单/合伙人接单, 微心愿 and the three lists, activity check-ins,
码上议 with its 办复率, 议事会 polls and 民生实事. No Telegram here: plain functions over sessions, taking ``now``.

Every change that two people can race for (接单, 认领, a confirmation, an answer) is a compare-and-set: one
``UPDATE … WHERE status = <expected>`` whose row count says who won, the same SQL on SQLite and PostgreSQL.
Points are written only through :func:`services.points.ledger.earn`, with the event as the reason.
"""
