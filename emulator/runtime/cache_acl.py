"""A serverless cache's user group, applied to its stand-in as Redis ACL users.

ElastiCache role-based access control "is designed to support the introduction of ACL in
Redis OSS 6" (https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html):
an access string is a Redis ACL rule list, less what ElastiCache keeps to itself: no
passwords in it (they come from CreateUser/ModifyUser, the moto extension refuses them in
an access string), no ``reset``, and "if neither [on nor off] is specified in the access
string, the user is assigned off". So each user of the cache's group becomes, on every node
of the stand-in (ACLs are per node: a cluster does not share them),
``ACL SETUSER <UserName> reset <access string> ><password>...`` (``nopass`` for a user
without a password): ``reset`` first makes the user exactly what the group says (and
``off`` unless the string says ``on``), then the string's rules, then its passwords. The
user named ``default`` is Redis's own default user: a group whose default user is ``off``
refuses clients that do not AUTH. A user that left the group is deleted (``ACL DELUSER``,
which also disconnects its clients). A cache without a user group keeps Redis's open
default user (``on nopass ~* &* +@all``), as a cache without access control.

The stand-in's own administration (cluster formation, these commands) uses a user of its
own, ``ADMIN_USER``, declared in each node's configuration file with a random password and
never part of a group; the replica replicates as that user.

Exposes ``ADMIN_USER``, ``setuser_commands(users)`` (the commands for a group, or for no
group), ``stale_users(listed, users)`` (what to delete) and ``redis_cli_script(commands)``
(the commands as redis-cli reads them on standard input, quoted, so no password is ever on
a command line).
"""
from __future__ import annotations

from collections.abc import Sequence

from emulator.moto_ext.elasticache_users import EffectiveUser

ADMIN_USER = "tap-emulator-admin"
OPEN_DEFAULT = ["on", "nopass", "~*", "&*", "+@all"]


def setuser_commands(users: Sequence[EffectiveUser] | None) -> list[list[str]]:
    """``ACL SETUSER`` commands that make the node's users those of the group (None: no
    group, the open default user)."""
    if users is None:
        return [["ACL", "SETUSER", "default", "reset", *OPEN_DEFAULT]]
    commands = []
    for user in users:
        secrets = ["nopass"] if user.no_password else [f">{password}"
                                                        for password in user.passwords]
        commands.append(["ACL", "SETUSER", user.name, "reset", *user.access_string.split(),
                         *secrets])
    return commands


def stale_users(listed: Sequence[str], users: Sequence[EffectiveUser] | None) -> list[str]:
    """The node's users (``ACL USERS``) that the group does not hold: to delete. Redis's
    default user and the stand-in's own stay."""
    wanted = {"default", ADMIN_USER} | {user.name for user in users or ()}
    return sorted(name for name in listed if name not in wanted)


def _quoted(argument: str) -> str:
    """One argument as redis-cli splits a line (sdssplitargs): double-quoted, with
    backslashes and double quotes escaped."""
    return '"' + argument.replace("\\", "\\\\").replace('"', '\\"') + '"'


def redis_cli_script(commands: Sequence[Sequence[str]]) -> str:
    return "".join(" ".join(_quoted(argument) for argument in command) + "\n"
                   for command in commands)
