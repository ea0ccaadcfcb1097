"""The rules of the web side, without HTTP: tracking tokens and claims, board sign-in (Mini App init data, one-time
links, sessions), the 服务码 form's checks (photos, rate limits), the board's queries, the desk's moves from the
board, Open311 and the 12345 import. ``web/`` turns them into pages; ``bot`` wires them to the bot's process.
"""
