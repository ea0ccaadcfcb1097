"""`linli console`: the emulator and the bot in one process, and a terminal chat with them.

What a newcomer gets from `make run` with no token: talk to the bot within a minute of cloning.
"""

from __future__ import annotations

import sys

from bot.app import build_application, start_polling, stop_polling
from bot.emulator import BotApiEmulator, run_console
from bot.settings import Settings

DEMO_ADMIN = 9001  # admin of the local demo when LINLI_ADMINS names nobody


async def run(settings: Settings) -> int:
    emu = BotApiEmulator(bot_username="linli_bot")
    await emu.start()
    staff = settings.staff_chat_id or -1000000000001
    emu.group(staff, title="社区工作人员群", bot_is_admin=True)
    update: dict[str, object] = {"bot_api_url": emu.base_url, "bot_file_url": emu.base_file_url,
                                 "staff_chat_id": staff}
    if not settings.admins:  # a local demo: one user to try the staff side with
        update["linli_admins"] = str(DEMO_ADMIN)
        emu.user(DEMO_ADMIN, "社区管理员")
    local = settings.model_copy(update=update)
    app = build_application(local, serve_web=True)
    await start_polling(app)
    print(f"邻里 已在本地模拟器上运行（{emu.url}）。输入文字和机器人对话；/as <用户ID> 切换身份；"
          "#数字 点按钮；/quit 退出。", file=sys.stderr)
    if (web_url := app.bot_data.get("linli.web_url")) is not None:
        print(f"网页：服务码 {web_url}/s/A03 ，工作台在对话里发送 /web 获取登录链接。", file=sys.stderr)
    if not settings.admins:
        print(f"演示用管理员：/as {DEMO_ADMIN} 切换过去，/in {staff} 进入工作人员群办理工单，私聊里 /notice 发通知。",
              file=sys.stderr)
    try:
        await run_console(emu)
    finally:
        await stop_polling(app)
        await emu.stop()
    return 0
