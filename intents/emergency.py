"""Life-safety messages, whatever their wording: which kind of emergency, and the words that said so.

Residents rarely type the textbook word (急救, 火灾); they say what they see: 我爸摔倒了起不来, 楼道里冒黑烟,
电梯卡在半路了里面有人. So each kind is a set of situation patterns, some of which only count with a
person as their subject (不动了 is an emergency for 老人, a repair for 电梯). A pattern is then checked
against what turns it into an ordinary message: a negation (没有着火), a past event (上个月有人在这摔了),
a fear or a hypothetical (怕着火, 容易摔倒, 万一), a question about a service (燃气费怎么交, 急救培训), a
problem already handled (困人的事处理好了), or hyperbole (吵得我想死).

Input is canonical text (`intents.text.canonical`: simplified, lower case, half-width).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

# crisis: someone else seen about to take their life (楼顶边上站着要跳); self-harm: the resident speaks of themself;
# fraud: a swindle in progress (a caller wants a transfer, a code) or just done (转了钱才发现是骗子)
KINDS = ("medical", "fire", "gas", "crime", "trapped", "missing", "self-harm", "crisis", "fraud")
# a cry for help that names no kind (救命, 快来人): whoever is on duty goes, the resident is told every number
HELP = "help"
# When several kinds are present, the one that decides who is sent first.
PRIORITY = ("crisis", "self-harm", "fire", "gas", "crime", "trapped", "missing", "medical", "fraud")

_PERSON = (
    r"(?:我|俺|咱|人|他|她|老人|老太太|老太|老头|老大爷|大爷|大妈|大娘|奶奶|爷爷|外婆|外公|姥姥|姥爷|"
    r"爸|妈|爹|娘|老伴|老公|老婆|媳妇|丈夫|妻子|儿子|女儿|闺女|孙子|孙女|外孙女?|孩子|小孩|娃|宝宝|婴儿|学生|邻居|工人|师傅|"
    r"小伙子?|男的|女的|哥|姐|弟|妹|朋友|同事|老师|阿姨|叔叔)"
)
# Someone who can go missing: not a bare 人 ("找不到人修" is a complaint), a relative or a child.
_KIN = (
    r"(?:老人|老太太|老太|老头|大爷|奶奶|爷爷|外婆|外公|姥姥|姥爷|爸|妈|爹|娘|老伴|老公|老婆|媳妇|丈夫|"
    r"妻子|儿子|女儿|闺女|孙子|孙女|外孙女?|孩子|小孩|娃|宝宝|学生|弟弟|妹妹|哥哥|姐姐|老父亲|老母亲)"
)
# the lift as typed, homophones too (电悌, 电题); gas as typed (煤汽, 天燃气)
_LIFT = r"(?:电梯|电悌|电题|电剃)"
_GAS = r"(?:煤|燃|天然|天燃|液化)[气汽]"
_INSIDE = r"(?:里面|里头|里边|里)"
_NOT_STUCK = r"(?!在?(?:抽烟|吸烟|撒尿|小便|贴|乱))"  # 电梯里有人抽烟: a nuisance, nobody trapped
# money sent away, as typed (转帐, 汇钱, 打钱), and whom a swindler asks it of
_SUM = r"(?:\d+|[一二两三四五六七八九十几百千万]+)(?:万|千|百)?(?:块|元)?"  # 两万, 五千块, 3000元
_PAY = (r"(?:转账|转帐|转钱|转款|转过去|转到|转给|汇款|汇钱|汇过去|打钱|打款|打过去|付款|交钱|交保证金|交手续费|"
        r"交(?:个|点)?(?:税|保证金|手续费|解冻费|激活费|保释金|赔偿金?|医药费|手术费|罚款)|充值|垫付|取钱|取出来|"
        r"(?:转|汇|打)(?:了)?" + _SUM + "|"
        r"(?:转|交|付|打)(?:了)?(?:个|点|" + _SUM + r")?(?:的)?(?:定金|订金|押金))")
_WHOM = r"(?:我|俺|咱|老人|老太太|老头|大爷|大妈|奶奶|爷爷|爸|妈|爹|娘|老伴|邻居|他|她)?"
_KNOWN = r"(?:被骗|受骗|上当|诈骗|骗子|骗局|骗了|骗走|是假的|被坑)"
_HURRY = r"(?:赶紧|马上|立刻|赶快|先|去|到银行|给他|给她|往)*"
_CODE = r"(?:验证[码吗]|密码)"  # 验证吗: voice typing
_TELL = r"(?:告诉|给|发|报|念|说)(?:给)?了?"
_TO = r"(?:他|她|人家|对方|那人|陌生人)"
# the means of taking one's life, made ready (药都准备好了, 安眠药攒好了, 绳子买好了)
_MEANS = r"(?:药|安眠药|农药|绳子|刀片|炭)(?:我)?(?:都|已经|早就?)?(?:准备|攒|买|备)好了"
# down to fetch something (衣服掉了 要跳下去捡, 球掉院里了 跳下去拿): an errand, not a jump to die
_FETCH = r"(?![^，。！？\s]{0,6}?(?:捡|拿|取|够))"

# (pattern, needs a person before it in the clause)
_PATTERNS: dict[str, list[tuple[str, bool]]] = {
    "medical": [
        (r"摔倒|跌倒|摔伤|摔破|摔在地上|摔了一跤|滚下来|倒地|倒在地上|躺在地上|躺地上|栽倒", False),
        (r"晕倒|晕过去|昏过去|昏倒|昏迷|休克|不省人事|叫不醒|喊不醒|没有?意识|没知觉|人事不省", False),
        (r"抽搐|口吐白沫|抽过去|翻白眼|眼睛往上翻|一直抽", False),
        (r"喘不(?:上|过)来?气|呼吸困难|没有?呼吸|没气了|心跳停|心脏骤停|心梗|心脏病(?:犯|发作)|胸口(?:疼|痛)得", False),
        (r"中风|脑梗|嘴(?:也|都)?歪了|说不出话|半边(?:身子)?(?:动不了|不能动|没知觉)", False),
        (r"血止不住|流(?:了)?(?:好多|很多|一地|一身|不少)血|大出血|出血不止|(?:满|一)(?:头|脸|身|手)(?:都)?是?血|都是血|"
         r"头破了|头破血流", False),
        (r"被电(?:打|击|着|到)|电(?:打|击|着)了|触电|电击", False),
        (r"溺水|落水|掉(?:进|到)?(?:了)?(?:河|湖|江|水|池塘|水塘|鱼塘|井|水库|游泳池)里?|淹着了|淹死|沉下去", False),
        (r"噎住|卡住(?:喉咙|嗓子)|吃错药|被车撞|车撞了人|撞倒了?人|被撞倒|烧伤|烫伤得?很重|要生了|羊水破了", False),
        (r"快?叫救护车|急救车|打120|叫120|快送医院|救救", False),
        (r"从(?:楼|梯子|脚手架|楼梯|阳台|窗户|树|房顶|屋顶)[^，。！？]{0,4}(?:掉|摔|跌|滚)下(?:来|去)", False),
        (r"摔了|摔下(?:来|去)|滑倒|站不起来|磕破|晕了|倒下了?|吐血|流血|在流血", True),
        (r"被[^，。！？]{0,4}撞(?:了|倒|伤|飞)|误(?:吃|服|喝)|吃错|喝错|(?:全|都)是血", False),
        (r"夹(?:住|伤|到)了?(?:我家|我们家)?(?:的)?(?:孩子|小孩|娃|老人|人|手|腿|脚|胳膊|头)", False),
        (r"(?:不动了|没反应了?|起不来|爬不起来|动不了|脸(?:都|色)?(?:发)?(?:紫|青)了|嘴唇发紫|快不行了|不行了)", True),
        (r"(?:叫|喊|推|拍)(?:了|他|她|人)*(?:半天|几声|好几声)?(?:也|都)?(?:没反应|不醒|不应|没动静|不答应|不吭声|不出声|"
         r"没(?:有)?声(?:音)?了|不动)", False),
        # someone shut in a bathroom a long while and not answering (a fall, a stroke, fumes from the water heater)
        (r"(?:卫生间|厕所|浴室|洗澡间|洗手间)[^。！？]{0,10}?(?:半天|半个?(?:钟头|小时)|一个?(?:多)?(?:钟头|小时)|好久|"
         r"很久|老半天)[^。！？]{0,10}?(?:不应|没人?应|没动静|没声|没反应|不出来|不开门|不吭声)", False),
        # fainted somewhere (有人晕在电梯里), fits (孩子发高烧抽了), fell down (有人倒了), chest pain with a cold sweat
        (r"(?<!头)(?:晕|昏)倒?在|抽(?:了|起来了?|过去了?)(?![一根支口烟包点个他她你我血奖签水])|抽风|惊厥", True),
        (r"(?:有个?人|老人|老太太|老太|老头|大爷|大娘|大妈|奶奶|爷爷)(?:突然|一下子?)?就?(?:倒了|倒下|栽倒)|"
         r"有人掉(?:下去|进去|到?井里|到?坑里)|栽(?:在)?地上|(?:吐|冒|流)白沫|躺在[^，。！？]{0,6}(?:不动|起不来|没反应|叫不醒)|"
         r"(?:胸口|心口)(?:疼|痛|闷)得?(?:厉害|受不了|不行|要命)|(?:出|冒)了?一身(?:的)?冷汗", False),
        # someone (alone) not seen or heard for days, not answering the door: a fall inside, perhaps
        (r"(?:老人|老太太|老太|老头|大爷|大娘|大妈|奶奶|爷爷|姥姥|姥爷|邻居|隔壁|独居|一个人|孤寡|老两口)"
         r"[^，。！？]{0,10}?(?:好几天|几天|两天|三天|一整天|一天|好久)了?(?:都|也)?(?:没|没有|不见)"
         r"(?:动静|出门|出来|开门|露面|见(?:着|到)?(?:人|她|他)?)", False),
        (r"(?:叫|喊|敲|拍)门?了?(?:她|他|人)?(?:半天|好久|好几声|几声|好几下)?门?(?:也|都|还)?"
         r"(?:没人?应|没人答应|没人开门?|不开门|不应声?|没人理)|门(?:也|都)?敲不开", True),
    ],
    "trapped": [
        (r"困在|被困|困住|困(?:电梯|人)|关在电梯|关电梯|卡在电梯|电梯里(?:有人|关着人)" + _NOT_STUCK, False),
        (_LIFT + r"[^。！？]{0,12}" + _INSIDE + r"(?:还)?(?:有|关着|困着)(?:个|一个|两个|几个|俩)?" + _PERSON +
         _NOT_STUCK, False),
        # 电梯关人了, 电梯把人关里头了, 俺跟孩子关在里头
        (_LIFT + r"里?又?(?:关|困|卡)(?:住|着|了)?(?:个|一个|两个|几个)?人|"
         r"把(?:人|" + _PERSON + r")(?:给)?(?:关|困|卡|锁)(?:在)?(?:" + _LIFT + r")?(?:里面|里头|里边|里|住)", False),
        (r"(?:关|困|锁)在?(?:里头|里面|里边)", True),
        # a person inside a lift that is stuck: 电梯坏半道了 俺孙女在里边 / 俺在电梯里 出不去
        (_LIFT + r"[^。！？]{0,12}(?:坏|停|卡|不动|掉|开不开|打不开)[^。！？]{0,12}?" + _PERSON +
         r"(?:们|俩)?(?:还|都)?(?:在|关在|困在)" + _INSIDE, False),
        (_PERSON + r"(?:们|俩)?(?:还|都)?(?:在|关在|困在|被关在|被困在|卡在)" + _LIFT + _INSIDE +
         r"?[^。！？]{0,6}(?:出不|开不开|打不开|下不来|卡住|不动|停了|坏了|掉)", False),
        (r"(?:卡|停|悬|坏)在(?:半路|半空|两层|2层|楼层|中间)[^。！？]{0,10}(?:人|里面|我|孩子)", False),
        (r"电梯(?:突然)?(?:往下|下)?(?:掉|坠)(?:下来|下去)?(?:了)?[^。！？]{0,10}(?:人|里面)", False),
        (r"(?:锁|关)在(?:屋|家|房间|卧室|卫生间|厕所|厨房|阳台|楼梯间|车)(?:里|里面|里头)?|反锁在|"
         r"被(?:锁|关)在", False),
        (r"(?:出不来|出不去|打不开门出来)", True),
        # 有人吗 电梯里出不去了: said from inside the lift, the speaker is the person
        (_LIFT + _INSIDE + r"[^。！？，,\s]{0,4}(?:出不来|出不去)", False),
    ],
    "missing": [
        (r"走丢|走失|失联|失踪|被拐|拐走|抱走了", False),
        (_KIN + r"[^的。！？]{0,12}(?:找不到了?|找不着|不见了|丢了|没了踪影|跑丢|联系不上|没回来|没回家|没到家|"
                r"不知道去哪)", False),
        (r"找不(?:到|着)(?:我|俺)?(?:家)?" + _KIN, False),
        (_KIN + r"[^。！？]{0,14}(?:到现在|一直|还|也)(?:都)?(?:没回来|没回家|没到家|联系不上|不接电话|打不通)", False),
        (r"人不见了|人找不到了|人丢了", False),
        # out for hours, and confused (老年痴呆, 糊涂, 不认路): lost, even before anyone says so
        (r"(?:出门|出去|跑出去|走出去|溜出去)[^。！？]{0,12}?(?:小时|钟头|半天|一上午|一下午|一整天|一晚上)[^。！？]{0,14}?"
         r"(?:老年痴呆|痴呆|阿尔茨海默|老糊涂|犯糊涂|糊涂了|不认(?:识)?路|认不得路)|"
         r"(?:老年痴呆|痴呆|阿尔茨海默|老糊涂|犯糊涂|糊涂了|不认(?:识)?路|认不得路)[^。！？]{0,14}?(?:出门|出去|跑出去|走出去|"
         r"溜出去)[^。！？]{0,12}?(?:小时|钟头|半天|一上午|一下午|一整天|一晚上)", False),
    ],
    "fire": [
        (r"(?<!打不)(?<!点不)(?<!打得)着火|起火|失火|火灾|走水了", False),
        (r"冒(?:黑|白|浓|青)?烟(?!囱)|浓烟|(?:全|都)是烟(?![头味盒屁蒂])|一(?:屋子|楼道|屋)(?:的)?烟(?![头味屁蒂])|"
         r"(?<![油抽香烤])烟(?:很|好|特别|太)大|烟雾很大|呛得?出不去", False),
        (r"(?:烧|着)起来|烧着了|着了火|火苗|火光|明火|火(?:越来越|好|很|特别|太)大|大火|冒火|火花|爆炸|炸了|"
         r"火烧", False),
        (r"烧焦味[^。！？]{0,8}(?:烟|火)", False),
        # smoke, a burning smell, something alight: unless the message is about a barbecue, cooking or 烧纸 (below)
        (r"(?:好多|很多|老多|一大股|到处(?:都)?是|满(?:楼道|屋子?|屋里)(?:都)?是?)烟(?![头味盒囱花酒草])|"
         r"烟(?:好多|很多|老多|越来越大)|烧焦(?:的)?(?:味|气味)|焦(?:糊)?味|电线(?:烧|着)|插座(?:冒烟|烧|着)|"
         r"线路(?:烧|冒)", False),
        (r"哪(?:里|儿|个地方)?(?<![睡打灯动])着了|(?:车|电瓶|电池|充电器|插座|插排|电线|线路|被子|沙发|窗帘|锅|厨房|房子|屋|"
         r"柜子)[^，。！？]{0,6}(?<![睡打灯动])着了", False),
    ],
    "gas": [
        (_GAS + r"[^，。！？费表卡]{0,6}?(?:味|气味)|闻(?:着|起来|到)?(?:像|是)" + _GAS + "|"
         r"臭鸡蛋味|一股气味|漏气|漏(?:煤|燃|天然|液化)气|"
         r"泄[漏露](?!报警|检测|探测)", False),
        (_GAS + r"[^，。！？费表卡]{0,4}?(?:漏|泄)(?![检费])", False),  # 燃气漏了, 煤气好像漏了
        (r"(?:煤气|燃气)中毒|一氧化碳|喷气|嘶嘶", False),
        (r"(?:燃气|煤气|天然气|气)(?:管|管道|管子|罐|瓶)[^，。！？]{0,4}(?:断|破|裂|爆|漏)", False),
    ],
    "crime": [
        (r"(?:拿|持|举|提|抄|握)着?(?:把)?(?:刀|菜刀|水果刀|刀子|棍|棒|铁棍|木棍|斧|砖|枪|凶器|锤)|动刀|砍人|捅人|捅了|"
         r"杀人|弄死我|杀了我|要杀|要砍", False),
        (r"在打我|打我|被打|被人打|被(?!电)[^，。！？]{0,3}打(?:了|伤|得)|打人|打得[^，。！？]{0,4}(?:血|不行)|"
         r"见血了|殴打|家暴|持械|打架|打起来了|打成一团|斗殴|互殴", False),
        (r"抢劫|抢(?:了)?(?:我的|她的|他的)?(?:包|手机|钱|孩子)|撬(?:门|锁)|正在撬|还在撬|在撬|闯进|闯入|入室|"
         r"跟踪|尾随|跟着我|猥亵|非礼|绑架|砸(?:我家|我们家|门)|踹门|打110|报警(?!器)", False),
    ],
    "fraud": [
        # a swindle in progress: someone wants money sent, a code told, an account 'made safe'
        (r"(?:让|叫|逼|催|要求|非要|忽悠)" + _WHOM + _HURRY + r"[^，。！？]{0,6}?" + _PAY, False),
        (r"(?<![我俺咱])要" + _WHOM + _HURRY + r"[^，。！？]{0,4}?" + _PAY, False),
        (r"安全(?:账|帐)户|(?:账|帐)户[^，。！？]{0,4}(?:不安全|有风险|涉嫌)|屏幕共享|共享屏幕|涉嫌洗钱|洗钱|逮捕令|"
         r"通缉令?|公检法|冒充(?:公安|警察|民警|公检法|法院|检察|银行|客服|医保|社保|领导|老师|儿子|女儿|孙子)|"
         r"自称(?:是)?(?:公安|警察|民警|法院|检察|银行|医保|社保)", False),
        # a freeze said by a caller or a message (a bank's own freeze, asked about, is no alert)
        (r"(?:说|称|通知|短信|电话)[^，。！？]{0,8}(?:医保卡|社保卡|银行卡|养老金|存款|账户|帐户|卡|钱)"
         r"[^，。！？]{0,4}(?:被|要被|给|要|会被|已被|已经被?)?冻结|解冻费", False),
        (r"(?:问|跟|找|向)" + _WHOM + r"要[^，。！？]{0,2}" + _CODE + "|"
         r"(?:说|报|念|告诉(?:他|她)?)[^，。！？]{0,4}?" + _CODE + "|"
         r"把[^，。！？]{0,6}?" + _CODE + _TELL + _TO + "?|" + _CODE + _TELL + _TO, False),
        # a stranger paid, a 'teacher' who will make the resident rich, a refund that needs an app or a shared screen
        (r"(?:给|往)(?:一个|个|那个)?(?:陌生人?|骗子|对方|人家)[^，。！？]{0,4}(?:转|汇|打)(?:了)?"
         r"(?:钱|款|账|帐|过去|" + _SUM + r")|(?:带|教)(?:我|俺|咱|老人)[^，。！？]{0,4}(?:赚钱|挣钱|炒股|理财|投资)|"
         r"(?:理赔|退款|退费|解冻|注销|贷款)[^。！？]{0,14}(?:下载|屏幕|共享|链接|扫码|app|软件|会议)", False),
        (r"中(?:了)?[一二三特大等个]{0,3}奖[^。！？]{0,12}(?:交|转|汇|打|付|手续费|税|保证金)|"
         r"刷单[^，。！？]{0,8}(?:钱|转|垫付|充值|返|提现|不给|押)|(?:我|俺|老人|妈|爸)[^，。！？]{0,6}刷单", False),
        (r"(?:孩子|儿子|女儿|闺女|孙子|孙女|外孙|老伴|老公|亲戚)[^，。！？]{0,4}(?:出事|出车祸|车祸|被抓|被拘|住院|"
         r"打伤了?人|撞了人)[^。！？]{0,10}(?:要|让|急)[^，。！？]{0,4}(?:钱|" + _PAY + ")", False),
        (r"(?:投资|理财|养老项目|养老公寓|养老基金|养老服务|入股|保健品)[^。！？]{0,12}"
         r"(?:高回报|高息|稳赚|保本|返利|翻倍|利息[^，。！？]{0,3}(?:高|\d))|"
         r"(?:拉|劝|忽悠|动员)" + _WHOM + r"[^，。！？]{0,6}(?:投资|投钱|理财|养老项目|入股)", False),
        # a swindle just done: the money gone, to be reported at once (a bank can freeze it the first hours)
        (r"(?<![没不别怕])(?:被|让|叫|给)(?:人|人家|骗子)?骗(?:了|走)|被诈骗|受骗了|上(?:了)?当了|遇(?:到|上)骗子了|"
         r"才(?:发现|知道|反应过来)[^，。！？]{0,4}(?:是|被|上当)|(?:钱|款|积蓄|存款|养老钱)[^，。！？]{0,4}(?:被骗|骗走)|"
         r"骗(?:了|走了)(?:我|俺|老人|我妈|我爸|俺妈|俺爹|俺娘)|被骗(?:的|走的)(?:钱|款|积蓄|存款)", False),
        (r"被[^，。！？]{1,8}骗(?:了|走)[^。！？]{0,8}(?:钱|万|千|块|元|积蓄|存款|养老钱)|"
         + _PAY + r"[^。！？]{0,14}" + _KNOWN, False),
        (r"保健品[^。！？]{0,12}(?:花了|交了|几万|万块|积蓄|养老钱|掏空)|"
         r"(?:花|买)了[^，。！？]{0,6}(?:万|千)[^，。！？]{0,8}保健品", False),
    ],
    "self-harm": [
        (r"不想活|活不下去|活着(?:没意思|太累|没意义|有什么意思)|寻死|自杀|轻生|寻短见|割腕|上吊|跳河|"
         r"(?:要|想)(?:往下)?跳楼|(?:(?:要|想)(?:往下)?|往下)?跳下去" + _FETCH + "|往下跳" + _FETCH + r"|跳楼(?!价)",
         False),
        # someone at a height about to jump (楼顶边上站着 好像要跳): not 跳舞, 跳绳, nor down for the washing
        (r"(?:楼顶|天台|房顶|屋顶|窗台|窗户|窗外|阳台|护栏|栏杆|桥上|桥边|楼边|边沿)[^。！？]{0,12}?"
         r"(?:要|想|准备|打算)(?:往下)?跳(?![舞绳高远槽伞水])" + _FETCH, False),
        (r"(?<!得)(?<!得我)(?<!得人)想死|安眠药|吃了(?:一|整)?(?:整)?瓶|(?:喝|吃)(?:了)?农药|喝药|吞药|结束(?:这一切|生命|自己)|"
         r"了结自己|遗书|对不起所有人|跟我告别|跟大家告别", False),
        # a life said to be enough, and the means made ready (撑不下去了 药都准备好了): not pills ready for hospital
        (r"活够了|(?:撑不下去|熬不下去|不想拖累|想解脱|太累了)[^。！？]{0,16}?" + _MEANS + "|" + _MEANS +
         r"[^。！？]{0,16}?(?:撑不下去|熬不下去|不想拖累|想解脱|太累了)", False),
    ],
}

# Words that, sent alone, ask for help now: an emergency even when the kind is not said.
# (求救按钮, 呼救铃, 一键求救器: the device, said broken or asked about, is no call for help)
_GENERIC = re.compile(r"救命(?!按钮|铃|键|器)|快来人|救人啊|求救(?!按钮|铃|键|器|装置|系统|电话是|功能)|"
                      r"help\s*me|sos\b(?!\s*(?:按钮|键))|emergency")
_ENGLISH: dict[str, str] = {
    "medical": r"\b(?:fell down|fallen|unconscious|not breathing|can'?t breathe|heart attack|bleeding|ambulance|"
               r"collapsed|drowning|electrocuted)\b",
    "fire": r"\b(?:fire|smoke|burning)\b",
    "gas": r"\b(?:gas leak|smell(?:s)? (?:of )?gas|gas smell)\b",
    "trapped": r"\b(?:trapped|stuck in the (?:lift|elevator))\b",
    "missing": r"\b(?:missing (?:child|kid|elder)|lost (?:my )?(?:child|kid|son|daughter))\b",
    "crime": r"\b(?:knife|gun|robbery|attacking|break-?in)\b",
    "self-harm": r"\b(?:kill myself|suicide|want to die)\b",
}

_COMPILED = {k: [(re.compile(p), person) for p, person in ps] for k, ps in _PATTERNS.items()}
_ENGLISH_RE = {k: re.compile(p) for k, p in _ENGLISH.items()}
# one pass over the message first: most messages hold no trigger at all, and then nothing else runs
_ANY = re.compile("|".join(f"(?:{p})" for ps in _PATTERNS.values() for p, _ in ps))
_PERSON_RE = re.compile(_PERSON)
_CLAUSE = re.compile(r"[，,。.！!？?；;\n]")

# (a space ends a clause as a comma does: 井盖没了 有人掉下去了 is no negation)
_NEGATION_BEFORE = re.compile(r"(?:没有|没|(?<!是)不是|并没有|并没|还好没|幸好没|未|别|不会|不用)[^，。！？\s]{0,2}$")
_PAST = re.compile(r"上个月|上周|上星期|上礼拜|去年|前年|以前|之前|曾经|那次|上次|上回|前几天|前段时间|前阵子|"
                   r"年前|月前|那年|"
                   r"好几年|小时候|当年")
# a swindle from days ago is still an alert (a bank can freeze money not yet moved on, the police want it at once);
# one from a month or years ago is an ordinary safety case
_LONG_AGO = re.compile(r"上个月|上月|去年|前年|以前|之前|曾经|那次|上次|上回|前段时间|前阵子|年前|月前|那年|"
                       r"好几年|几年|小时候|当年|早年|多年")
# a swindle of days ago is an alert only for money gone (a call that asked and was refused is over); and the words
# that say it was refused (我直接挂了, 我没转, 没给他)
_LOST = re.compile(r"被骗|受骗|上当|骗(?:了|走)|(?:转|汇|打|给|交)了[^，。！？]{0,6}(?:钱|款|万|千|百|块|元|过去)|"
                   r"(?:转|汇|打)(?:过去|出去)了|(?:转账|汇款|付款)了|钱(?:没了|没有了|被转走|要不回来)|损失")
_NOW = re.compile(r"现在|正在|还在|刚才|刚刚|今天|马上|赶紧|快")
# how often it happens: a complaint about the thing, not a call for help (电梯经常困人)
_HABITUAL = re.compile(r"经常|老是|总是|动不动|三天两头|常常|时常|隔三差五|每次|好几次|多次")
_URGENT = re.compile(r"现在|正在|还在|快|赶紧|马上|救命|刚才|刚刚|到现在|一直|了快|啊|！|!")
_FEAR = re.compile(r"(?<!害)怕|担心|万一|容易|可能会|会不会|迟早|要是|如果|假如|小心|注意|防|预防|避免|以免|隐患|"
                   r"风险|演练|演习|一旦|哪天|哪一天|到时候|真要|要真|搞不好|弄不好|保不齐|指不定|"
                   r"培训|知识|宣传|会$|会[^，。！？]?$|能不能|就会|就要|早晚")
_INFO = re.compile(r"怎么(?:交|办理|登记|预防|领|报名|开户)|在哪(?:里)?(?:领|登记|办|报名|交|买)|培训|演练|年检|安检|"
                   r"什么时候|手环|(?<!听)课|讲座|宣传|登记|开户")
# something seen on television or a video and retold (电视里说着火了要捂住口鼻, 那个电动车着火的视频): not the
# building's own CCTV (监控视频里看到有人倒在楼道), and not with a call for help
_RETOLD = re.compile(r"(?:电视|新闻|(?<!监控)视频|抖音|快手|网上)(?:里|上)?(?:说|讲|播|报道|看到)|"
                     r"(?<!监控)的(?:视频|新闻)")
_DONE = re.compile(r"处理好了|解决了|好(?:一)?点了|好多了|好些了|"
                   r"已经好了|修好了|没事了|救出来了|(?:人|都|已经)(?:被)?(?:放|弄|拉)?出来了|(?<![不没])找到了|"
                   r"(?<![不没])回来了|灭了|扑灭|已经处理|送医院了?没事")
# a fall said to be nothing much (摔了一跤 破了点皮 没事): a question for the doctor, not an ambulance
_MINOR = re.compile(r"破了?点皮|擦破|蹭破|皮外伤|不严重|没(?:什么|啥)大(?:碍|事)|没大事|问题不大|"
                    r"没事(?=[，。！？,.!?\s]|$)")
_FALL = re.compile(r"摔|跌|滑倒|磕|绊")
# 救命 said of a nuisance (救命啊 楼上太吵了 我要疯了): venting, nobody in danger
_VENTING = re.compile(r"疯了|疯掉|崩溃|受不了|烦死|吵死|臭死|熏死|折磨死|气死")
_NUISANCE = re.compile(r"吵|噪|装修|狗叫|音响|广场舞|臭|味|熏|油烟|蚊子|蟑螂|老鼠")
_HYPERBOLE = re.compile(r"得(?:我|人)?(?:都)?(?:想死|要死|不想活)")
_BLOCKED = re.compile(r"消防通道|隐患|堵|占")
# 电梯卡住不动了 里面没人: a broken lift, nobody trapped
_NOBODY_INSIDE = re.compile(_INSIDE + r"(?:没|没有)(?:人|有人)|没(?:有)?(?:关|困)(?:着|住)?人|没人被(?:关|困)")
# smoke or a burning smell from a barbecue, cooking, 烧纸, fireworks: a nuisance, unless flames are said
_SMOKE_ONLY = re.compile(r"^[^火着]*$")
_NOT_FIRE = re.compile(r"烧烤|烤串|撸串|烧纸|烧香|上香|抽烟|吸烟|烟头|烟屁股|烟蒂|油烟|做饭|炒菜|锅|糊了|烧糊|烟囱|"
                       r"烟花|鞭炮|放炮|炮仗|蚊香|艾灸|熏肉|熏腊")
_PET = re.compile(r"狗|猫|宠物|鸟|鹦鹉")
_KIN_RE = re.compile(_KIN)
# a cry (快来人) about water pouring out, nobody hurt: an urgent repair for the property, not 120/119/110
_WATER = re.compile(r"水管|管子|爆管|跑水|漏水|冒水|水漫|淹了|进水|喷水|往外喷|往下流水|暖气片|下水道|返水|水龙头")
_WATER_DANGER = re.compile(r"电|插座|受伤|倒了|摔|出不|困|老人|孩子|小孩|血")
# someone else at a height or an edge, about to jump: a bystander calls the police first and stays with them
_PERCH = re.compile(r"楼顶|天台|房顶|屋顶|顶楼|窗台|窗户|窗外|阳台|护栏|栏杆|桥上|桥边|河边|湖边|边上|边沿|楼边|高处")
_SELF = frozenset(("我", "俺", "咱"))
# fraud: talk about it (反诈, a warning to neighbours, a resident who saw through it) is no alert (a 保健品讲座 where
# the money went is one);
# money or a code asked for is one only with a sign that a stranger is behind it (a call, a message, a claim, 有人),
# and a bill paid the usual way (物业让我转账交物业费) or a grid worker's request only when the words say it is a
# swindle (冒充网格员)
_FRAUD_TALK = re.compile(r"(?<!冒充)反诈(?!中心)|防诈|防骗|提醒大家|提醒一下|(?:给|跟)大家提个醒|"
                         r"没(?:有)?上(?:他们?的|她的)?当|识破|没(?:理|搭理)(?:他|她|会)|听说|新闻|电视上|"
                         r"(?:直接|就|马上|赶紧|立马)(?:把电话)?挂(?:了|断)|(?:我|俺)?把电话挂了|(?:我|俺)(?:可)?没(?:转|给|信|汇|上当)|"
                         r"没(?:给他|给她|转给|信他|信她)|拦住了|骂(?:回去|跑)了?")
_FRAUD_SIGN = re.compile(r"电话|来电|打来|短信|视频|微信|qq|陌生|自称|说是|冒充|客服|链接|网上|网友|对方|那人|"
                         r"(?:有|那|一)个?人|人家|骗|诈|上当|冻结|账户|帐户|洗钱|公检法|警察|公安|法院|检察|"
                         r"中[^，。！？]{0,4}奖|刷单|出事|车祸|被抓|保证金|手续费|投资|理财|返利|保健品|养老|"
                         + _CODE + _TELL + _TO)
# a bill, or the community's own people asking (a grid worker registering the resident on a mini-program)
_BILL = re.compile(r"物业费|水费|电费|燃气费|暖气费|取暖费|房租|租金|停车费|学费|医药费|话费|饭钱|菜钱|"
                   r"(?:网格员|居委会|社区(?:的)?工作人员|物业)[^，。！？]{0,3}(?:让|叫|要|问)")
_SWINDLE = re.compile(r"骗|诈|冒充|陌生|冻结|安全(?:账|帐)户|(?:电话|短信|微信|有人|对方)[^。！？]{0,8}说")
_CALLS_POLICE = frozenset(("报警", "打110"))
# 快来人 for an errand (调解一下, 修修, 管管): a request to the community, nobody in danger
_ERRAND = re.compile(r"[^，。！？]{0,4}?(?:调解|评理|评评理|管管|管一管|处理|修|看看|看一下|说说|劝劝|清理|疏通|收拾)")


@dataclass
class Emergency:
    kind: str
    evidence: list[str] = field(default_factory=list)

    def to_json(self) -> dict:
        return {"kind": self.kind, "evidence": self.evidence}


def _clause_bounds(text: str, start: int, end: int) -> tuple[int, int]:
    a = max((m.end() for m in _CLAUSE.finditer(text, 0, start)), default=0)
    b = next((m.start() for m in _CLAUSE.finditer(text, end)), len(text))
    return a, b


_BEFORE_NOW = re.compile(r"[^，。！？]{0,3}过(?![去来])")
_HAPPENED = re.compile(r"过(?![去来])|发生|出了|那(?:回|次)")
_ASKED = re.compile(r"[^，。！？\s]{0,3}?(?:吗|么|嘛|没有?)(?=[，。！？?\s]|$)")
_DENIED = re.compile(r"[，,。.！!？?；;\s]*(?:不是|没有|没)(?!人|了)")


def _long_ago(text: str, a: int, b: int, end: int, kind: str | None) -> bool:
    """Said of a time gone by (上个月, 去年; for a swindle, not 前几天), with nothing in the clause urgent now."""
    past = _LONG_AGO if kind == "fraud" else _PAST
    return bool(past.search(text[:end])) and not _URGENT.search(text[a:b])


def _ordinary(text: str, start: int, end: int, kind: str | None = None, *, when: bool = True) -> bool:
    """True when a pattern found at text[start:end] describes no emergency happening now. (A swindle's own words
    can be a service's: 听保健品讲座 花了好几万, so for ``fraud`` talk about fraud is read in ``_set_aside``.)
    ``when=False`` leaves the time out: what happened, however long ago."""
    return _why_ordinary(text, start, end, kind, when=when) is not None


def _why_ordinary(text: str, start: int, end: int, kind: str | None = None, *, when: bool = True) -> str | None:
    """Why the pattern at text[start:end] is no emergency now ("negated", "before", "past", "fear", "habitual",
    "info", "hyperbole", "what-if"), or None when it is one."""
    a, b = _clause_bounds(text, start, end)
    before, after = text[a:start], text[end:b]
    if _NEGATION_BEFORE.search(before):
        return "negated"
    if _BEFORE_NOW.match(after):
        return "before"  # 着过火, 摔过, 困过人: it happened before (not 打钱过去, 转过来: a direction)
    told = re.split(r"\s", after, maxsplit=1)[0]  # the rest of the trigger's clause, a space ending it
    if _PAST.search(told) and _HAPPENED.search(told) and not _URGENT.search(text[a:start] + told):
        return "past"  # 电梯关人的事上个月出过一回, 着火那次是去年发生的: the event named, then when it was
    asked = _ASKED.match(after)
    if asked and _DENIED.match(text, end + asked.end()):
        return "negated"  # 着火了吗 不是 是有人烧纸: asked, and answered no at once
    if when and _long_ago(text, a, b, end, kind):
        return "past"
    if _FEAR.search(text[max(a, start - 10) : max(start, end - 2)]):
        return "fear"
    if _HABITUAL.search(text[max(a, start - 8) : start]):
        return "habitual"
    if kind != "fraud" and (_INFO.search(text[a:b]) or (_RETOLD.search(text[a:b]) and not _ALARM.search(text))):
        return "info"
    if _HYPERBOLE.search(text[max(a, start - 4) : end]):
        return "hyperbole"
    # "消防通道被堵了，着火了怎么进来": a what-if about an ordinary complaint
    if re.match(r"[^，。！？]{0,3}怎么(?!办)", after) and _BLOCKED.search(text):
        return "what-if"
    if kind != "fraud" and _what_if(text, start, end):
        return "what-if"
    return None


# A what-if about a hazard the resident sees every day (楼道里停满了电动车 着火了可咋办, 电线露在外头 小孩摸了触电咋办):
# the emergency is asked about, not happening. Read with spaces as clause breaks, as residents type.
_SPACED = re.compile(r"[，,。.！!？?；;\n\s]")
# what then: 咋办, 往哪跑; who answers for it: 谁负责, 后果不堪设想; what it would do to everyone: 人都跑不出去
_THEN_WHAT = re.compile(r"[^，。！？\s]{0,3}?(?:可|那|又|该|就|都)?(?:怎么办|咋办|咋整|怎么整|咋弄|怎么弄|咋个办|"
                        r"如何是好|往哪(?:儿|里)?(?:跑|逃|躲)|怎么(?:跑|逃)|咋(?:跑|逃))|"
                        r"[^，。！？\s]{0,10}?(?:谁(?:来)?负责|谁(?:能)?担(?:得起|责任?|待)|算谁的|谁(?:来)?赔|"
                        r"后果不堪设想|后悔(?:都)?来不及|就(?:晚|完)了)|"
                        r"[^，。！？\s]{0,6}?都(?:跑不|逃不|出不|进不|开不进)")
# the standing hazard the what-if is about, said in another clause
_HAZARD_SCENE = re.compile(r"电动车|电瓶车|充电|电线|电箱|电闸|线路|插座|插排|私拉|飞线|老化|堵|占(?:了|着|用|满)|停满|"
                           r"堆|杂物|纸箱|废品|易燃|煤气罐|液化气|气罐|隐患|消防|安全通道|灭火器|漏电|露(?:在外|着|出)|"
                           r"井盖|护栏|栏杆|扶手|松(?:了|动)|这么多|全是|满了|天天|老是|总是|经常")
# the trigger's own clause says where or what is burning: a report (3楼着火了咋办, 有一辆着火了)
_SCENE_OF_EVENT = re.compile(r"楼|层|家|屋|房|厨|车|室|号|单元|门|院|店|对面|隔壁|[有那这一][辆个家户间]")
# a call for help now: whatever else is said, the emergency is happening
_ALARM = re.compile(r"救命|救人|快来|快点|快救|快跑|快打|赶紧|赶快|马上|打(?:119|120|110)|报警")


def _what_if(text: str, start: int, end: int) -> bool:
    """The pattern at text[start:end] is a what-if about a hazard: a bare clause (no place of its own) asking what
    then, and the hazard named in another clause, with no call for help anywhere."""
    a = max((m.end() for m in _SPACED.finditer(text, 0, start)), default=0)
    b = next((m.start() for m in _SPACED.finditer(text, end)), len(text))
    if not _THEN_WHAT.match(text, end, b) or _ALARM.search(text):
        return False
    if _SCENE_OF_EVENT.search(text, a, start):
        return False
    return bool(_HAZARD_SCENE.search(text[:a]) or _HAZARD_SCENE.search(text[b:]))


_POURING = re.compile(r"爆了|爆管|管子爆|水管爆|裂了|哗哗|往外冒|往外喷|喷水|冒水|跑水|水漫|漫到|淹了|止不住|关不住")


def pouring(text: str) -> bool:
    """Water pouring out (a burst pipe, a tap that will not shut): urgent for the property, and the resident can
    stop the worst of it at once by closing the main valve."""
    return bool(_WATER.search(text) and _POURING.search(text))


# a fire, gas or an electric shock feared or asked "what if" about: a hazard for the police post (消防隐患)
_FEARED = frozenset(("fear", "what-if", "habitual"))
_ELECTRIC = re.compile(r"电")


def detect(text: str) -> Emergency | None:
    """The emergency a canonical message reports, or None; `evidence` are the words that decided."""
    return scan(text)[0]


def scan(text: str) -> tuple[Emergency | None, list[str]]:
    """`detect`'s answer, and the words of a hazard the message fears (`hazard_feared`), found in the same pass."""
    if not text:
        return None, []
    ascii_text = text.isascii()
    if not ascii_text and not _ANY.search(text) and not _GENERIC.search(text):
        return None, []
    if _DONE.search(text):
        return None, []
    found: dict[str, list[str]] = {}
    feared: list[str] = []
    hazard_now = False
    for kind, patterns in () if ascii_text else _COMPILED.items():
        hazard = kind in ("fire", "gas", "medical")
        for rx, needs_person in patterns:
            for m in rx.finditer(text):
                word = m.group(0)
                if not word:
                    continue
                if needs_person and not _has_person(text, m.start(), word):
                    continue
                why = _why_ordinary(text, m.start(), m.end(), kind)
                if hazard and (kind != "medical" or _ELECTRIC.search(word)):
                    if why is None:
                        hazard_now = True
                    elif why in _FEARED:
                        feared.append(word)
                if why is not None:
                    continue
                if kind == "trapped" and not _PERSON_RE.search(text) and not re.search(_LIFT, text):
                    continue  # 车被困在车位里: no one is inside
                found.setdefault(kind, []).append(word)
    feared = [] if hazard_now else list(dict.fromkeys(feared))
    _set_aside(text, found)
    if ascii_text:
        for kind, rx in _ENGLISH_RE.items():
            for m in rx.finditer(text):
                found.setdefault(kind, []).append(m.group(0))
    if not found:
        g = _GENERIC.search(text)
        water = _WATER.search(text) and not _WATER_DANGER.search(text)
        errand = (g is not None and g.group(0) == "快来人" and _ERRAND.match(text, g.end())
                  and not re.search(r"救命|求救|救人", text))
        venting = _VENTING.search(text) and _NUISANCE.search(text)
        if g and not _ordinary(text, g.start(), g.end()) and not water and not errand and not venting:
            return Emergency(kind=HELP, evidence=[g.group(0)]), feared
        return None, feared
    kind = next(k for k in PRIORITY if k in found)
    g = _GENERIC.search(text)
    evidence = list(dict.fromkeys(found[kind] + ([g.group(0)] if g else [])))
    return Emergency(kind=kind, evidence=evidence), feared


def _set_aside(text: str, found: dict[str, list[str]]) -> None:
    """What a kind's words meant in this message: nobody in the broken lift, smoke from a barbecue, a dog lost,
    self-harm seen by a bystander (``crisis``), or talk about swindles rather than one under way."""
    if "trapped" in found and _NOBODY_INSIDE.search(text):
        del found["trapped"]
    if "fire" in found and all(_SMOKE_ONLY.match(e) for e in found["fire"]) and _NOT_FIRE.search(text):
        del found["fire"]
    if "medical" in found and _MINOR.search(text) and all(_FALL.search(e) for e in found["medical"]):
        del found["medical"]
    if "missing" in found and _PET.search(text) and not _KIN_RE.search(text):
        del found["missing"]
    if "fraud" in found and not _a_swindle(text):
        del found["fraud"]
    if "fraud" in found and _PAST.search(text) and not _LOST.search(text) and not _NOW.search(text):
        del found["fraud"]  # 上周有人冒充公安打电话让我转账: asked days ago, nothing lost, over
    if "fraud" in found and "crime" in found and (set(found["crime"]) <= _CALLS_POLICE or _told(text, found["crime"])):
        del found["crime"]  # 被骗了 要报警, 说我外孙打架被拘了: the swindle is what to act on (96110 / 110, the bank)
    if "self-harm" in found and _PERCH.search(text) and any(p.group(0) not in _SELF for p in _PERSON_RE.finditer(text)):
        found["crisis"] = found.pop("self-harm")


_TOLD = re.compile(r"(?:说|称|讲)[^。！？]{0,8}$")


def _told(text: str, words: list[str]) -> bool:
    """Every one of ``words`` is part of what a caller said (说我外孙打架被拘了), not what the resident sees."""
    return all(_TOLD.search(text[max(0, i - 10) : i]) for w in words if (i := text.find(w)) >= 0)


def _a_swindle(text: str) -> bool:
    """The fraud words are about a swindle on the resident (not talk about fraud, not a bill paid the usual way)."""
    return not (_FRAUD_TALK.search(text) or not _FRAUD_SIGN.search(text)
                or (_BILL.search(text) and not _SWINDLE.search(text)) or known_party(text) is not None)


def swindle_reported(text: str) -> list[str]:
    """The words of a swindle the resident reports, however long ago (上个月被人骗了三千 说是公安局的), or [].

    Past the first days it is no alert (the money cannot be frozen any more), but it is still a fraud: a case
    for the police post, who help the resident report it (110) — not a legal question or nothing at all.
    Canonical text; the same guards as the alert apart from the time: talk about fraud, a refusal (我直接挂了),
    a bill, a negation or a fear is no report."""
    if not text or not _a_swindle(text) or _DONE.search(text):  # the cheap guards first: no regex of its own
        return []
    found = [m.group(0) for rx, _ in _COMPILED["fraud"] for m in rx.finditer(text)
             if m.group(0) and not _ordinary(text, m.start(), m.end(), "fraud", when=False)]
    return list(dict.fromkeys(found))


def hazard_feared(text: str) -> list[str]:
    """The words of a fire, a gas leak or an electric shock the resident fears (怕着火, 万一起火怎么办,
    楼道里停满了电动车 着火了可咋办), or []: a safety hazard to report, not an emergency. Canonical text; a denial
    (没有着火) or a drill (消防演练) is no hazard, and nothing is returned when the message reports one happening."""
    return scan(text)[1]


# Money kept by someone the resident deals with (被房东骗了两千, 中介骗了我押金, 老板骗了我工资): a dispute over a
# deposit, rent or wages, for mediation or a lawyer, not a swindle to alert the police post about. A stranger who
# only says he is one (网上找的房东, 自称中介, 冒充房东) and one who vanished with the money (拉黑, 联系不上) is a
# swindler.
_PARTY = re.compile(r"房东|中介|租客|房客|物业|开发商|商家|店家|店主|卖家|老板|包工头|工头|装修(?:队|公司|师傅)|"
                    r"健身房|理发店|美容院|培训(?:班|机构)|驾校|单位|厂里")
_STRANGER = re.compile(r"网上|网友|微信上|qq|陌生|自称|冒充|假(?:的|冒)?(?:房东|中介|老板)|骗子|拉黑|删了|联系不上|"
                       r"(?:电话|手机)(?:也)?打不通|关机|(?:人|他|她)(?:也)?(?:跑了|找不到|不见了)|链接|二维码|"
                       r"安全(?:账|帐)户|新卡|换了?(?:卡|账户|帐户)")
_CHEATED = re.compile(r"骗|坑")
_WAGES = re.compile(r"工资|工钱|薪|血汗钱|劳务费|加班费")


def known_party(text: str) -> tuple[str, str] | None:
    """For a message that says it was cheated (骗, 坑) by a landlord, an agent, a tenant, a shop, the property company
    or a boss, with no sign of a stranger: the category it goes to ("legal" for wages and for the developer, "property"
    for the property company, "dispute" otherwise) and the party named; None for anything else."""
    if not _CHEATED.search(text):
        return None
    party = _PARTY.search(text)
    if party is None or _STRANGER.search(text):
        return None
    who = party.group(0)
    if _WAGES.search(text) or who == "开发商":  # wages and a house bought: a lawyer's
        return "legal", who
    return ("property" if who == "物业" else "dispute"), who


def _has_person(text: str, start: int, phrase: str) -> bool:
    """A person is the subject: named before the phrase in the same clause, with no vehicle in between."""
    a, _ = _clause_bounds(text, start, start + len(phrase))
    before = text[max(a, start - 10) : start]
    people = list(_PERSON_RE.finditer(before))
    if not people:
        return False
    between = before[people[-1].end() :]  # from the nearest person to the phrase
    if phrase.startswith("出不") and "车" in text[a:start]:
        return False  # 停车挡着我出不去: a parking complaint
    return not re.search(r"车|电梯|表|灯|门|机|箱|东西|猫|狗|钥匙", between)
