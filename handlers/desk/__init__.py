"""The staff desk in group chats: case cards' buttons, staff replies and notes, queues and figures, mediation.

::

    confirmed complaint ──handlers.cards.owe_card──▶ outbox ──sender──▶ card in the unit's chat (else the staff chat)
    签收 · 转派 · 需补充 · 办结 · 升级  (callback data: number.version) ──▶ buttons ──▶ services.cases.lifecycle / sweep
    需补充, 办结 ──▶ ForceReply prompt ──staff reply──▶ relays: 待补充 (question to the resident) / 办结 (result)
    staff reply to a card ──▶ relays: to the resident and followers, recorded as "reply";  /note ──▶ "note", never sent
    /rate LL-… 满意 ──▶ followup: the rating got by phone from a resident without Telegram (回访)
    /queue /board /rates /case ──▶ queue;  /mediate ──▶ mediation
    /report ──▶ reports;  /supervise /answer /supervisions ──▶ supervision;  /history ──▶ history

A grid worker's private chat is a desk for their grid's cases (``handlers.cards.is_desk``): the card comes there with
its buttons, replies there go through relays (``relays.on_private_reply``, asked first by the router's private text
handler), and /queue /case /note work there (``private``).
"""

from __future__ import annotations

from telegram.ext import Application, CommandHandler, MessageHandler, filters

from handlers.desk import followup, history, mediation, queue, relays, reports, supervision

GROUPS = filters.ChatType.GROUPS


def register(app: Application) -> None:
    """Group-chat handlers; call before the router's catch-all group command handler."""
    app.add_handler(CommandHandler("queue", queue.on_queue, filters=GROUPS))
    app.add_handler(CommandHandler("board", queue.on_board, filters=GROUPS))
    app.add_handler(CommandHandler("rates", queue.on_rates, filters=GROUPS))
    app.add_handler(CommandHandler("case", queue.on_case, filters=GROUPS))
    app.add_handler(CommandHandler("note", relays.on_note, filters=GROUPS))
    app.add_handler(CommandHandler("rate", followup.on_rate, filters=GROUPS))  # 回访 by phone, no Telegram
    app.add_handler(MessageHandler(GROUPS & filters.TEXT & ~filters.COMMAND & filters.REPLY, relays.on_staff_text))
    mediation.register(app)
    reports.register(app)  # /report (and the 周调度/月评估/季研判 pushes: reports.tick in bot.jobs)
    supervision.register(app)  # /supervise /answer /supervisions, replies to a 督办
    history.register(app)  # /history


__all__ = ["register"]
