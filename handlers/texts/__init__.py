"""Every sentence the bot says (Simplified Chinese), one module per audience.

Handlers never inline user-facing strings: wording is reviewed here, and a later translation or a tone change
touches one file. Functions take plain values, never Telegram objects. ``from handlers import texts`` gives the
whole catalogue; each sentence is defined in exactly one of ``common``, ``resident``, ``desk``, ``grid``, ``admin``.
"""

from handlers.texts.admin import *  # noqa: F403
from handlers.texts.common import *  # noqa: F403
from handlers.texts.desk import *  # noqa: F403
from handlers.texts.grid import *  # noqa: F403
from handlers.texts.resident import *  # noqa: F403
