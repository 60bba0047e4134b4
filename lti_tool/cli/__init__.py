"""`cxa`: the operator's command line (database, platforms, keys, outbox, sessions, grades,
operators, refused launches, goals, demo).

Invalid input is refused with a message and exit status 2; nothing is half-written.
Each command group lives in a module of its own; this one only assembles them.
"""

from __future__ import annotations

import sys

import click

from lti_tool.cli.badges import badges_group
from lti_tool.cli.brand import brand
from lti_tool.cli.db import db
from lti_tool.cli.goals import goals_group
from lti_tool.cli.grades import grades_group
from lti_tool.cli.keys import keys_group
from lti_tool.cli.operators import operators_group
from lti_tool.cli.outbox import outbox_group
from lti_tool.cli.platform import platform
from lti_tool.cli.refusals import refused_command
from lti_tool.cli.registration import COMMANDS as REGISTRATION_COMMANDS
from lti_tool.cli.sessions import sessions_group


@click.group()
def main() -> None:
    """CX Academy: LTI 1.3 tool administration."""


for command in (*REGISTRATION_COMMANDS, brand):
    platform.add_command(command)

for group in (
    db,
    platform,
    keys_group,
    outbox_group,
    sessions_group,
    grades_group,
    badges_group,
    operators_group,
    refused_command,
    goals_group,
):
    main.add_command(group)


@main.command()
@click.option("--port", type=click.IntRange(1, 65535), default=8000, show_default=True)
@click.option("--lms-port", type=click.IntRange(1, 65535), default=8001, show_default=True)
@click.option("--lrs-port", type=click.IntRange(1, 65535), default=8100, show_default=True)
def demo(port: int, lms_port: int, lrs_port: int) -> None:
    """Run everything on this machine: tool, worker, beat, LRS and the demo LMS."""
    from lti_tool.demo.runner import run_demo

    sys.exit(run_demo(port=port, lms_port=lms_port, lrs_port=lrs_port))
