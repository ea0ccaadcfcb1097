"""The web pages' words (Simplified Chinese), beside the templates: statuses, channels, colours and every error a
page can show. Kept in step with the bot's catalogue (``handlers.texts``), which the web must not import."""

from __future__ import annotations

STATUS = {
    "received": "已受理", "dispatched": "已派单", "signed": "已签收", "in_progress": "办理中", "pending_info": "待补充",
    "resolved": "已办结", "followed_up": "已回访", "closed": "已关闭", "withdrawn": "已撤回", "merged": "已合并",
    "reopened": "重新办理",
}
STATUS_FILTERS = {"open": "在办", "closed": "已结束", **STATUS}
CHANNEL = {"telegram": "机器人", "phone": "电话", "visit": "来访", "letter": "信件", "patrol": "走访",
           "12345": "12345热线", "web": "服务码", "open311": "外部平台"}
COLOUR = {"red": "红灯", "yellow": "黄灯", "green": "绿灯"}
EVENT = {
    "created": "提交诉求", "withdrawn": "居民撤回", "status_changed": "状态变更", "dispatched": "派单", "note": "备注",
    "reply": "答复", "escalated": "升级处理", "merged": "合并", "rated": "评价", "linked": "居民补充反映",
    "reassigned": "转派", "reminded": "催办提醒", "mediation": "调解进展", "supervised": "督办",
    "supervision_answered": "督办答复",
}
RATING = {"satisfied": "满意", "basically_satisfied": "基本满意", "unsatisfied": "不满意", "unrated": "未评价",
          "unreachable": "无法联系（未回访）"}
RATE_BUTTONS = {"s": "满意", "b": "基本满意", "u": "不满意"}
# the page of a case a neighbour's complaint joined: their own words only, never its author's
OWN_WORDS = "您反映的内容"
JOINED = "附近已有相同的诉求，您的反映已并入其中一并办理。下面是这件诉求的办理进度。"

FORM_ERRORS = {
    "text_short": "请用几句话说明发生了什么（至少 4 个字）。",
    "text_long": "内容太长了（最多 1000 字），请删短一些，只写最要紧的几句，其余可以等工作人员联系您时再说。",
    "text_no_words": "请用文字说明发生了什么（只有表情符号或标点，工作人员看不明白）。",
    "location_long": "地点太长了，请写楼栋、单元或附近的标志。",
    "phone_bad": ("手机号码格式不对。请填 11 位手机号（例如 13812345678），或带区号的座机（例如 010-12345678）；"
                  "不想留电话可以空着。"),
    "name_long": "称呼太长了。",
    "category_bad": "请选择列表中的类别。",
}
TEXT_REQUIRED = "请写几句话，说明发生了什么。"
PHOTO_ERRORS = {
    "too_big": "照片太大了（最大 {mb} MB），请压缩后再传，或不带照片提交。",
    "not_image": "上传的文件不是照片（支持 JPG、PNG、WEBP、GIF），请换一张，或不带照片提交。",
}
PHOTO_AGAIN = "您选的照片还没有上传，请改好上面的内容后重新选择照片，再点“提交”。"
PHOTO_UPLOAD_FAILED = "照片暂时无法保存，请稍后再试，或先不带照片提交。"
TOO_MANY = "提交太频繁了，请 {minutes} 分钟后再试。如情况紧急，请直接拨打社区电话或 110/120/119。"
BAD_FORM = "表单无法读取，请刷新页面后重新填写。"
# shown on the form when the back button brings a case just filed back into it (the number and link filled in by
# intake.js); markup of our own, no user data
FILED_BEFORE_HTML = ('您刚才已经提交了工单 <span class="number"></span>，<a href="#">点这里查看办理进度</a>。'
                     "还有别的问题，请在下面重新填写。")
UNKNOWN_GRID = "没有这个网格的服务码。请重新扫描楼道海报上的二维码。"
NO_CASE = "没有找到这个跟踪码对应的诉求。请检查链接是否完整。"
RATE_DONE = "感谢您的评价！"
RATE_UNSATISFIED = ("很抱歉没有让您满意。这件诉求已重新办理，并已上报上一级督办；"
                    "您写的话已转给承办人员。需要时可以随时回到本页查看进度。")
RATE_COMMENT_HINT = "比如：哪里还没解决，或者想谢谢谁"
RATE_CLOSED = "这件诉求现在不能评价了。"
RATE_NOT_YOURS = "只有提交诉求的居民可以评价。"
WITHDRAW_BUTTON = "撤回诉求"
WITHDRAW_HINT = "问题已经解决了，或者提交错了？可以撤回这件诉求。"
WITHDRAW_ASK = "确定撤回工单 {number} 吗？撤回后工作人员将不再办理，也不能恢复。"
WITHDRAW_YES = "确认撤回"
WITHDRAW_NO = "不撤回，继续办理"
WITHDRAWN = "工单 {number} 已撤回。感谢您告诉我们。如果问题又出现了，可以重新提交。"
WITHDRAW_REFUSED = {
    "not_found": NO_CASE,
    "not_yours": "只有提交诉求的居民可以撤回。",
    "already_withdrawn": "这件诉求已经撤回了，不需要再操作。",
    "not_open": "这件诉求已经办结或关闭，不能撤回了。",
}
EMERGENCY_FILED = ("您说的是紧急情况，已立即通知社区值班人员。请马上拨打 120（急救）、119（火警）或 110（报警），"
                   "不要只等网上回复。")
EMERGENCY = "如果有人受伤、起火、燃气泄漏或正在发生危险，请立即拨打 120 / 119 / 110，不要只在这里留言。"

SIGNIN_NEEDED = "请先登录：在 Telegram 里给机器人发送 /web，点按钮打开工作台。"
SIGNIN_FAILED = {
    "malformed": "登录信息不完整，请从 Telegram 里重新打开工作台。",
    "bad_hash": "登录信息校验失败，请从 Telegram 里重新打开工作台。",
    "expired": "登录信息已过期，请从 Telegram 里重新打开工作台。",
}
LINK_INVALID = "这个登录链接已失效（10 分钟内有效，只能用一次）。请在 Telegram 里重新发送 /web。"
NO_ROLE = "您没有工作台的权限。如需使用，请联系社区管理员分配角色。"
NO_CASE_ROLE = "您没有查看这件工单的权限。"
NO_ACT_ROLE = "您没有办理这个工单的权限。"
CSRF = "页面已过期，请刷新后再操作。"
ACT_DONE = {"sign": "已签收。", "reply": "答复已发给居民。",
            "reply_nobody": "答复已记录（居民未绑定 Telegram，请电话联系）。", "resolve": "已办结，结果已告知居民。"}
ACT_CONFLICT = "别人刚刚处理过这件工单（现在是“{status}”），请看最新状态。"
ACT_REFUSED = {
    "not_allowed": "当前状态（{status}）不能这样操作。",
    "final": "工单已结束（{status}）。",
    "result_required": "办结需要填写办理结果。",
    "same_status": "工单已经是“{status}”了。",
}
EMPTY_REPLY = "答复内容不能为空。"
NOT_FOUND = "页面不存在。"
REPORT_NO_FONT = "服务器缺少中文字体，无法生成图表。"
