"""便民服务: questions answered straight from the community file and the ledger, no ticket.

Dates are computed from today (`deps.now()`), so the answer is right on the 18th at 11:31 too.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime

from telegram import Update
from telegram.ext import ContextTypes

from handlers import keyboards, texts
from handlers.deps import Deps, deps
from handlers.people import resident_now
from handlers.replies import drop_buttons
from services import local
from services.community import schedule
from services.community.model import Category
from services.participation import activities
from services.points import ledger as points
from storage.models import AgeBand


async def menu(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    await update.effective_message.reply_text(texts.SERVICES_MENU, reply_markup=keyboards.services(d.callback_secret))


async def answer(update: Update, context: ContextTypes.DEFAULT_TYPE, service: str) -> None:
    """Reply to one service question by its intent id (svc.haircut, svc.points …)."""
    d = deps(context)
    msg = update.effective_message
    if service == "svc.shop":
        await shop(update, context)
        return
    if service == "svc.phone":
        await phone(update, context, msg.text or msg.caption or "")
        return
    if service == "svc.points":
        said = msg.text or ""
        if "志愿" in said and not any(w in said for w in ("积分", "多少分", "几分")):
            await volunteer(update, context)  # "我想报名当志愿者": how to join, then what it earns
            return
        await my_points(update, context)
        return
    builders = {
        "svc.haircut": _haircut,
        "svc.hours": _hours,
        "svc.meal": _meal,
        "svc.class": _class,
        "svc.clinic": _clinic,
        "svc.activities": _activities,
    }
    build = builders.get(service)
    if build is None:
        await msg.reply_text(texts.SERVICES_MENU, reply_markup=keyboards.services(d.callback_secret))
        return
    await msg.reply_text(await build(update, d))


# Whose number a resident asks for, in their words, to what the community file knows of it: the grid worker, the
# lift rescue line, the service centre, the duty room; a unit (物业, the utilities, police, 城管) has no number
# on file, so its name is said with the other ways to reach it.
_OFFICES: tuple[tuple[str, re.Pattern[str], str], ...] = (
    ("grid", re.compile(r"网格"), "网格员"),
    ("lift", re.compile(r"电梯"), "电梯公司"),
    ("property", re.compile(r"物业|物管|管家|保安|门卫"), "物业"),
    ("gas", re.compile(r"燃气|煤气|天然气|液化气"), "燃气公司"),
    ("water", re.compile(r"自来水|水务|水厂|供水"), "自来水公司"),
    ("power", re.compile(r"供电|电力|电业|电网|电工"), "供电公司"),
    ("heat", re.compile(r"热力|供暖|暖气|采暖"), "供暖公司"),
    ("police", re.compile(r"派出所|警务室|民警|警察|公安"), "派出所"),
    ("enforcement", re.compile(r"城管|执法"), "城管"),
    ("duty", re.compile(r"值班"), "值班室"),
    ("centre", re.compile(r"居委|社区|服务中心|党群"), "居委会"),
)
_UNIT_OF = {"property": "property", "gas": "utilities", "water": "utilities", "power": "utilities",
            "heat": "utilities", "police": "safety", "enforcement": "construction", "centre": "other"}


async def phone(update: Update, context: ContextTypes.DEFAULT_TYPE, text: str) -> None:
    """"物业电话多少", "燃气公司电话": the numbers the community file has for whoever is named (none named: the
    resident's grid worker, as "网格员电话多少" is answered); no number on file: said so, with the unit that takes
    such matters, the grid worker's number and 转人工."""
    d = deps(context)
    msg = update.effective_message
    c = d.community
    r = await resident_now(d, update)
    grid = c.grid(r.grid_code) if r.grid_code else None
    worker = (grid.worker_name, grid.phone) if grid is not None and grid.phone else None
    named = [(key, label) for key, rx, label in _OFFICES if rx.search(text)]
    if not named or [k for k, _ in named] == ["grid"]:
        if worker is not None:
            await msg.reply_text(texts.grid_worker(grid.name, *worker),
                                 reply_markup=keyboards.human(d.callback_secret, msg.message_id))
            return
        named = named or [("centre", "社区")]
    found: list[tuple[str, str]] = []
    unknown: list[tuple[str, str | None]] = []
    for key, label in named:
        number = _number_on_file(d, key)
        if number is not None:
            found.append(number)
        elif key != "grid":
            unit = c.unit_for(_UNIT_OF[key]).name if key in _UNIT_OF else None
            unknown.append((label, unit))
    if found and worker is not None and not any(n == worker[1] for _, n in found) and unknown:
        found.append((f"网格员 {worker[0]}", worker[1]))
    parts = [texts.phones(found)] if found else []
    if unknown:
        whose = "、".join(label for label, _ in unknown)
        units = list(dict.fromkeys(u for _, u in unknown if u))
        parts.append(texts.phone_unknown(whose, "、".join(units) or None,
                                         *(worker if worker is not None and not found else (None, None))))
    markup = keyboards.human(d.callback_secret, msg.message_id) if unknown else None
    await msg.reply_text("\n\n".join(parts), reply_markup=markup)


def _number_on_file(d: Deps, key: str) -> tuple[str, str] | None:
    """(whose, number) for an office the community file has a number of; None when it has none."""
    c = d.community
    if key == "lift" and c.emergency.lift_phone:
        return texts.PHONE_LIFT, c.emergency.lift_phone
    if key == "centre" and c.centre.phone:
        return texts.PHONE_CENTRE, c.centre.phone
    if key in ("duty", "centre") and c.emergency.duty_phone:
        return c.emergency.duty_name, c.emergency.duty_phone
    if key in _UNIT_OF and (unit := c.unit_for(Category(_UNIT_OF[key]))).phone:
        return unit.name, unit.phone  # the unit that takes such matters here (物业 → the property's service centre)
    return None


async def _haircut(update: Update, d: Deps) -> str:
    now = d.now()
    cut = d.community.haircut
    window = schedule.next_haircut(now, cut)
    band = (await resident_now(d, update)).age_band
    senior = None if band is None else band == AgeBand.SENIOR
    return texts.haircut(cut.name, window.start, f"{cut.start:%H:%M}", f"{cut.end:%H:%M}", cut.place,
                         cut.free_age, cut.fee_yuan, senior, window.start.date() == local(now).date())


async def _hours(update: Update, d: Deps) -> str:
    c = d.community.centre

    def span(h: tuple | None) -> str:
        return f"{h[0]:%H:%M}–{h[1]:%H:%M}" if h else "休息"

    lines = [f"周一至周五：{span(c.weekday)}", f"周六、周日：{span(c.weekend)}"]
    return texts.hours(lines, list(c.windows), schedule.is_open(d.now(), c), c.address, c.phone)


async def _meal(update: Update, d: Deps) -> str:
    return texts.canteens([(c.name, c.address, c.hours, c.price_note) for c in d.community.canteens])


async def _class(update: Update, d: Deps) -> str:
    cls = d.community.classes
    if cls is None or not cls.sessions:
        return texts.NO_CLASSES
    sessions = [f"· 每周{texts.WEEKDAYS[x.weekday]} {x.start:%H:%M}–{x.end:%H:%M} {x.subject}" for x in cls.sessions]
    nxt = schedule.next_class(d.now(), cls)
    when = None
    if nxt:
        st = nxt.window.start
        when = f"{st.month}月{st.day}日（周{texts.WEEKDAYS[st.weekday()]}）{st:%H:%M} {nxt.subject}"
    return texts.classes(cls.name, cls.place, sessions, when)


async def _clinic(update: Update, d: Deps) -> str:
    c = d.community.clinic
    if c is None:
        return texts.clinic("义诊", None, "", "")
    w = schedule.next_clinic(d.now(), c)
    when = None
    if w:
        st = w.start
        when = f"{st.month}月{st.day}日（周{texts.WEEKDAYS[st.weekday()]}）{st:%H:%M}–{w.end:%H:%M}"
    return texts.clinic(c.name, when, c.place, c.note)


async def _activities(update: Update, d: Deps) -> str:
    """"有啥活动没": the check-ins open today in the resident's grid or the whole community, then the next 义剪,
    公益课堂 and 义诊 by date — one answer instead of the resident asking for each by name."""
    now = d.now()
    r = await resident_now(d, update)
    async with d.db.session() as s:
        today = [a.title for a in await activities.open_now(s, now, r.grid_code)]
    coming: list[tuple[datetime, str]] = []
    cut = d.community.haircut
    window = schedule.next_haircut(now, cut)
    coming.append((window.start, f"{cut.name}（{cut.place}，{cut.free_age}周岁及以上老人免费）"))
    if d.community.classes is not None and (nxt := schedule.next_class(now, d.community.classes)) is not None:
        coming.append((nxt.window.start, f"{d.community.classes.name}：{nxt.subject}（{d.community.classes.place}）"))
    if d.community.clinic is not None and (w := schedule.next_clinic(now, d.community.clinic)) is not None:
        coming.append((w.start, f"{d.community.clinic.name}（{d.community.clinic.place}）"))
    lines = [f"{_day(st, now)} {st:%H:%M} {what}" for st, what in sorted(coming, key=lambda c: c[0])]
    return texts.activities(today, lines)


def _day(when: datetime, now: datetime) -> str:
    """今天 / 明天 / 12月18日（周五）, in local time."""
    here, day = local(now).date(), local(when).date()
    if day == here:
        return "今天"
    if (day - here).days == 1:
        return "明天"
    return f"{day.month}月{day.day}日（周{texts.WEEKDAYS[day.weekday()]}）"


async def volunteer(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Signing up as a volunteer goes through the grid worker (who runs the activities and their check-in)."""
    d = deps(context)
    r = await resident_now(d, update)
    grid = d.community.grid(r.grid_code) if r.grid_code else None
    body = texts.volunteer(grid.worker_name if grid else None, grid.phone if grid else None)
    body += texts.earn_rules([(e.name, e.points) for e in d.community.earning])
    await update.effective_message.reply_text(body)


async def my_points(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    r = await resident_now(d, update)
    async with d.db.session() as s:
        bal = await points.balance(s, r.id)
        recent = await points.recent_entries(s, r.id, limit=5)
        entries = [(e.at, e.delta, _entry_name(d, e.reason, e.ref, e.note)) for e in recent]
    rules = d.community.points_rules
    body = (texts.points(bal, entries) + texts.earn_rules([(e.name, e.points) for e in d.community.earning])
            + texts.earn_ways(rules.order.points, rules.wish.points))
    await update.effective_message.reply_text(body)


def _entry_name(d: Deps, reason: str, ref: str | None, note: str | None = None) -> str:
    """A ledger line as a resident reads it: the activity, the item, the order or the why, not the internal code."""
    code = (ref or "").partition("#")[0]
    if reason == points.REVERSAL:
        return texts.POINTS_REVERSED.format(note=note or "")
    if reason == points.REDEEM:
        item = d.community.shop_item(code)
        return texts.POINTS_REDEEMED.format(name=item.name if item else code)
    rule = d.community.earn_rule(code)
    if rule is not None:
        return rule.name
    if note and reason in (points.Kind.ORDER, points.Kind.WISH, points.Kind.ACTIVITY):
        return texts.POINTS_EARNED_FOR.format(note=note)
    if note:
        return f"{texts.POINTS_REASONS.get(reason, reason)}：{note}"
    return texts.POINTS_REASONS.get(reason, reason)


async def shop(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    d = deps(context)
    r = await resident_now(d, update)
    async with d.db.session() as s:
        bal, left = await points.shop_view(s, r.id, d.community.shop)
    items = list(zip(d.community.shop, left, strict=True))
    body = texts.shop([(i.name, i.cost, left) for i, left in items], bal)
    buttons = [
        keyboards.button(d.callback_secret, f"{texts.BTN_REDEEM} {i.name}", "buy", i.code)
        for i, left in items if left is None or left > 0
    ]
    await update.effective_message.reply_text(body, reply_markup=keyboards.inline(*keyboards.rows(buttons, 2)))


async def on_button(update: Update, context: ContextTypes.DEFAULT_TYPE, action: str, arg: str) -> None:
    d = deps(context)
    q = update.callback_query
    if action == "svc":
        await q.answer()
        await answer(update, context, arg)
        return
    code, _, request = arg.partition(".")
    item = d.community.shop_item(code)
    if item is None or (action == "buyy" and not request):
        await q.answer(texts.REDEEM_REFUSED["unknown_item"], show_alert=True)
        return
    if action == "buy":
        r = await resident_now(d, update)
        async with d.db.session() as s:
            bal = await points.balance(s, r.id)
        await q.answer()
        if bal < item.cost:  # no button that can only be refused: what is missing, and how points are earned
            await q.message.reply_text(texts.REDEEM_REFUSED["insufficient"].format(
                name=item.name, cost=item.cost, balance=bal) + texts.earn_rules(
                [(e.name, e.points) for e in d.community.earning]))
            return
        request = secrets.token_hex(4)  # one confirm button = one purchase, however often it is pressed
        await q.message.reply_text(texts.redeem_ask(item.name, item.cost, bal), reply_markup=keyboards.inline(
            [keyboards.button(d.callback_secret, texts.BTN_REDEEM_YES, "buyy", f"{item.code}.{request}"),
             keyboards.button(d.callback_secret, texts.BTN_REDEEM_NO, "buyn", item.code)]))
        return
    if action == "buyn":  # changed their mind: nothing spent, the question closed
        await q.answer()
        await q.edit_message_text(texts.redeem_cancelled(item.name))
        return
    r = await resident_now(d, update)  # "buyy": the redemption itself, in a transaction of its own
    result = await points.redeem(d.db, resident_id=r.id, item_code=item.code, community=d.community, now=d.now(),
                                 request=request)
    await q.answer()
    await drop_buttons(q)
    if result.status is points.RedeemStatus.ALREADY_DONE:
        return  # the other press of this button already answered
    if result.ok:
        await q.message.reply_text(texts.redeemed(item.name, result.balance_after))
    else:
        await q.message.reply_text(texts.REDEEM_REFUSED[result.status.value].format(
            name=item.name, cost=item.cost, balance=result.balance_after))
