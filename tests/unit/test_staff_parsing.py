"""What staff type, read right: /mediate's time only for 会议, /grant's target never a forum topic's opener."""

from datetime import UTC, datetime

from telegram import Chat, ForumTopicCreated, Message, User

from handlers.access import target_user
from handlers.desk.mediation import parse
from services import SHANGHAI
from storage.models import MediationStage

NOW = datetime(2026, 11, 23, 9, 0, tzinfo=SHANGHAI)
GROUP = Chat(-100600, Chat.SUPERGROUP, is_forum=True)
OPENER, ADMIN = User(55, "开话题的人", False), User(1, "管理员", False)


def test_only_the_meeting_stage_reads_a_time() -> None:
    assert parse("/mediate LL-20261122-0007 登记 10:30已电话联系双方", NOW) == (
        "LL-20261122-0007", MediationStage.REGISTERED, None, "10:30已电话联系双方")
    assert parse("/mediate LL-20261122-0007 会议 11-25 14:00 社区调解室", NOW) == (
        "LL-20261122-0007", MediationStage.MEETING, datetime(2026, 11, 25, 14, 0, tzinfo=SHANGHAI), "社区调解室")


async def test_a_forum_topic_is_no_reply_to_its_opener() -> None:
    opener = Message(3, datetime.now(UTC), GROUP, from_user=OPENER,
                     forum_topic_created=ForumTopicCreated("工单", 0x6FB9F0))
    in_topic = Message(9, datetime.now(UTC), GROUP, from_user=ADMIN, message_thread_id=3, reply_to_message=opener,
                       is_topic_message=True)
    assert await target_user(None, in_topic, ["staff", "wuye"]) == (None, ["staff", "wuye"], None)  # type: ignore[arg-type]
    someone = Message(7, datetime.now(UTC), GROUP, from_user=OPENER, message_thread_id=3)
    replying = Message(10, datetime.now(UTC), GROUP, from_user=ADMIN, message_thread_id=3, reply_to_message=someone,
                       is_topic_message=True)
    assert await target_user(None, replying, ["staff", "wuye"]) == (55, ["staff", "wuye"], None)  # type: ignore[arg-type]
    assert await target_user(None, replying, ["²", "staff"]) == (55, ["²", "staff"], None)  # type: ignore[arg-type]
