"""What a learner is told about the statements their actions send to the LRS.

The wording follows the platform's settings (actor format, actor name), so the page says
exactly what leaves the tool rather than a promise the statements do not keep.
"""

from __future__ import annotations

from flask_babel import gettext as _

from lti_tool.store.models import Launch


def statement_disclosure(launch: Launch) -> str:
    """One paragraph: what is sent, identified how, and who can read it."""
    platform = launch.platform
    if platform.actor_format == "mbox" and launch.email:
        identity = _("your email address")
    elif platform.actor_format == "mbox_sha1sum" and launch.email:
        identity = _("a one-way hash of your email address")
    else:
        identity = _("your account id in your learning platform (not your email address)")
    if platform.actor_name == "include" and launch.name:
        who = _("%(identity)s and your name", identity=identity)
    else:
        who = _("%(identity)s, without your name", identity=identity)
    # Matches what lti_tool.recording sends for a submission: one "responded" statement
    # per rated statement (its text and the rating chosen) and one "completed" statement
    # listing the recommended modules. Averages and unrated statements are not sent.
    return _(
        "For each statement you rate, the statement and the rating you chose are sent to "
        "your organisation's learning record store (LRS); when you finish, so is the fact "
        "that you completed the self-assessment, which modules it recommended to you "
        "and your average rating per skill. Each of these records identifies you "
        "by %(who)s. People your organisation lets read the LRS, such as your learning and "
        "development team, can see them.",
        who=who,
    )
