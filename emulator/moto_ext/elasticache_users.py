"""ElastiCache users and user groups (role-based access control) for moto, as serverless
caches use them.

moto 5.2.5 has CreateUser, DescribeUsers and DeleteUser, and nothing of user groups. This
extension keeps moto's users and adds what AWS does around them
(https://docs.aws.amazon.com/AmazonElastiCache/latest/dg/Clusters.RBAC.html and the API
reference of each action):

- CreateUser / ModifyUser: the access string is checked as ElastiCache restricts Redis ACL
  rules: no passwords in it (``>``, ``<``, ``#``, ``!``, ``nopass``, ``resetpass``: "You set
  passwords with CreateUser or ModifyUser calls") and no ``reset``; a user id that exists is
  refused with its own id (moto names ``user1`` whatever the id). ModifyUser (missing from
  moto) changes the access string (or appends to it), the passwords or ``NoPasswordRequired``.
- CreateUserGroup / DescribeUserGroups / ModifyUserGroup / DeleteUserGroup (missing from
  moto): a group must hold a user named ``default`` (``DefaultUserRequired``) and no two
  users of one name (``DuplicateUserName``); every id must exist (``UserNotFound``);
  removing a user that is not a member is ``InvalidParameterValue`` "... is not a member of
  user group ..." (what terraform-provider-aws's association resource expects on delete).
  A ModifyUserGroup leaves the group ``modifying`` for ``MODIFY_SECONDS``, during which
  another one is refused with ``InvalidUserGroupState``, as AWS refuses concurrent changes
  (terraform-provider-aws issue 28688; the provider retries on that fault). A group used by
  a serverless cache cannot be deleted ("The user group must first be disassociated ...
  before it can be deleted": ``InvalidUserGroupState``).
- DeleteUser takes the user out of every group ("The user will be removed from all user
  groups"), except a user named ``default`` that a group holds
  (``DefaultUserAssociatedToUserGroup``).
- CreateServerlessCache / ModifyServerlessCache with ``UserGroupId``: the group must exist
  (``UserGroupNotFound``) and be active (``InvalidUserGroupState``).

The runtime (``emulator/runtime/cache_acl.py``) reads ``effective_users(backend, cache)``:
the users a cache's stand-in must know, with their access strings and passwords.

The error messages are the emulator's own wording where AWS's is not documented.
"""
from __future__ import annotations

# The handlers below become methods of moto's response class (moto's own helpers read the
# request), and the users are moto's objects.
# pylint: disable=protected-access

import time
from dataclasses import dataclass
from typing import Any, Callable

from moto.elasticache.exceptions import (ElastiCacheException, InvalidParameterValueException,
                                         UserNotFound)
from moto.elasticache.models import ElastiCacheBackend, User
from moto.elasticache.responses import ElastiCacheResponse
from moto.core.responses import ActionResult, PaginatedResult

from emulator.moto_ext import elasticache_serverless

NAME = "elasticache-users"
DEFAULT_USER_NAME = "default"
MODIFY_SECONDS = 1.0
# Access string tokens ElastiCache refuses: passwords are API parameters, and reset would
# drop them.
_PASSWORD_PREFIXES = (">", "<", "#", "!")
_FORBIDDEN_TOKENS = ("nopass", "resetpass", "reset")


class UserGroupNotFound(ElastiCacheException):
    """No such user group."""

    code = "UserGroupNotFound"

    def __init__(self, group_id: str) -> None:
        super().__init__(f"User group {group_id} not found.")


class UserGroupAlreadyExists(ElastiCacheException):
    """A group of that id exists."""

    code = "UserGroupAlreadyExists"

    def __init__(self, group_id: str) -> None:
        super().__init__(f"User group {group_id} already exists.")


class UserAlreadyExists(ElastiCacheException):
    """A user of that id exists."""

    code = "UserAlreadyExists"

    def __init__(self, user_id: str) -> None:
        super().__init__(f"User {user_id} already exists.")


class DefaultUserRequired(ElastiCacheException):
    """The group would hold no user named default."""

    code = "DefaultUserRequired"

    def __init__(self) -> None:
        super().__init__("You must add default user to a user group.")


class DuplicateUserName(ElastiCacheException):
    """Two users of one name in one group."""

    code = "DuplicateUserName"

    def __init__(self, name: str) -> None:
        super().__init__(f"A user with the username {name} already exists in the user group.")


class InvalidUserGroupState(ElastiCacheException):
    """The group is not active, or is in use."""

    code = "InvalidUserGroupState"


class DefaultUserAssociatedToUserGroup(ElastiCacheException):
    """A group's default user cannot be deleted."""

    code = "DefaultUserAssociatedToUserGroup"

    def __init__(self, user_id: str, group_id: str) -> None:
        super().__init__(f"User {user_id} is the default user of user group {group_id}: "
                         "replace it in the group first.")


@dataclass(kw_only=True)
class UserGroup:
    """One user group: its users by id, and when it last changed."""

    group_id: str
    engine: str
    user_ids: list[str]
    arn: str
    modified_at: float = 0.0  # time.monotonic() of the last ModifyUserGroup
    pending: dict[str, list[str]] | None = None

    def status(self) -> str:
        if self.modified_at and time.monotonic() - self.modified_at < MODIFY_SECONDS:
            return "modifying"
        self.pending = None
        return "active"


def groups(backend: ElastiCacheBackend) -> dict[str, UserGroup]:
    """The user groups of one backend (account and region), by id."""
    if not hasattr(backend, "user_groups"):
        backend.user_groups = {}  # type: ignore[attr-defined]
    return backend.user_groups  # type: ignore[attr-defined,no-any-return]


def check_access_string(access_string: str) -> None:
    """InvalidParameterValue for what ElastiCache does not take in an access string."""
    for token in access_string.split():
        if token.startswith(_PASSWORD_PREFIXES):  # never repeat a password in a message
            raise InvalidParameterValueException(
                "Access string must not contain passwords: set them with Passwords.")
        if token.lower() in _FORBIDDEN_TOKENS:
            raise InvalidParameterValueException(
                f"Access string must not contain {token}: passwords are set with Passwords.")


def _user(backend: ElastiCacheBackend, user_id: str) -> User:
    user = backend.users.get(user_id)
    if user is None or user.status == "deleting":
        raise UserNotFound(user_id)
    return user


def _group(backend: ElastiCacheBackend, group_id: str) -> UserGroup:
    group = groups(backend).get(group_id.lower())
    if group is None:
        raise UserGroupNotFound(group_id)
    return group


def _check_members(backend: ElastiCacheBackend, user_ids: list[str]) -> None:
    """Every id a user; one named default; no name twice."""
    names: set[str] = set()
    for user_id in user_ids:
        name = _user(backend, user_id).name
        if name in names:
            raise DuplicateUserName(name)
        names.add(name)
    if DEFAULT_USER_NAME not in names:
        raise DefaultUserRequired()


def serverless_caches_of(backend: ElastiCacheBackend, group_id: str) -> list[str]:
    return sorted(name for name, cache in elasticache_serverless.caches(backend).items()
                  if cache.get("UserGroupId") == group_id)


def describe(backend: ElastiCacheBackend, group: UserGroup, status: str | None = None
             ) -> dict[str, Any]:
    """The group as DescribeUserGroups shows it."""
    current = group.status()
    answer: dict[str, Any] = {
        "UserGroupId": group.group_id, "Status": status or current, "Engine": group.engine,
        "UserIds": list(group.user_ids), "MinimumEngineVersion": "6.0",
        "ReplicationGroups": [], "ServerlessCaches": serverless_caches_of(backend,
                                                                         group.group_id),
        "ARN": group.arn}
    if group.pending and (status or current) == "modifying":
        answer["PendingChanges"] = group.pending
    return answer


def create_user_group(backend: ElastiCacheBackend, params: dict[str, Any]) -> UserGroup:
    group_id = params["UserGroupId"].lower()
    if group_id in groups(backend):
        raise UserGroupAlreadyExists(group_id)
    user_ids = list(dict.fromkeys(params.get("UserIds") or []))
    _check_members(backend, user_ids)
    arn = (f"arn:aws:elasticache:{backend.region_name}:{backend.account_id}:"
           f"usergroup:{group_id}")
    group = UserGroup(group_id=group_id, engine=params["Engine"].lower(), user_ids=user_ids,
                      arn=arn)
    for user_id in user_ids:
        backend.users[user_id].user_group_ids.append(group_id)
    groups(backend)[group_id] = group
    if params.get("Tags"):
        backend.tagging_service.tag_resource(arn, params["Tags"])
    return group


def modify_user_group(backend: ElastiCacheBackend, params: dict[str, Any]) -> UserGroup:
    group = _group(backend, params["UserGroupId"])
    if group.status() != "active":
        raise InvalidUserGroupState(f"User group {group.group_id} has status modifying. "
                                    "Only active user groups can be modified.")
    add = list(params.get("UserIdsToAdd") or [])
    remove = list(params.get("UserIdsToRemove") or [])
    for user_id in remove:
        if user_id not in group.user_ids:
            raise InvalidParameterValueException(
                f"User {user_id} is not a member of user group {group.group_id}.")
    members = [user_id for user_id in group.user_ids if user_id not in remove]
    members += [user_id for user_id in add if user_id not in members]
    _check_members(backend, members)
    for user_id in remove:
        backend.users[user_id].user_group_ids.remove(group.group_id)
    for user_id in add:
        if group.group_id not in backend.users[user_id].user_group_ids:
            backend.users[user_id].user_group_ids.append(group.group_id)
    group.user_ids = members
    group.modified_at = time.monotonic()
    group.pending = {"UserIdsToRemove": remove, "UserIdsToAdd": add}
    return group


def delete_user_group(backend: ElastiCacheBackend, group_id: str) -> dict[str, Any]:
    group = _group(backend, group_id)
    in_use = serverless_caches_of(backend, group.group_id)
    if in_use:
        raise InvalidUserGroupState(
            f"User group {group.group_id} is associated with serverless cache "
            f"{', '.join(in_use)}: it must be disassociated before it can be deleted.")
    answer = describe(backend, group, status="deleting")
    for user_id in group.user_ids:
        user = backend.users.get(user_id)
        if user is not None and group.group_id in user.user_group_ids:
            user.user_group_ids.remove(group.group_id)
    del groups(backend)[group.group_id]
    backend.tagging_service.delete_all_tags_for_resource(group.arn)
    return answer


def delete_user(backend: ElastiCacheBackend, user_id: str) -> None:
    """What AWS does to the groups before moto marks the user deleting."""
    user = _user(backend, user_id)
    for group_id in list(user.user_group_ids):
        if user.name == DEFAULT_USER_NAME:
            raise DefaultUserAssociatedToUserGroup(user_id, group_id)
    for group_id in list(user.user_group_ids):
        group = groups(backend).get(group_id)
        if group is not None and user_id in group.user_ids:
            group.user_ids.remove(user_id)
        user.user_group_ids.remove(group_id)


def modify_user(backend: ElastiCacheBackend, params: dict[str, Any]) -> User:
    user = _user(backend, params["UserId"])
    if params.get("AccessString") is not None:
        check_access_string(params["AccessString"])
        user.access_string = params["AccessString"]
    if params.get("AppendAccessString") is not None:
        check_access_string(params["AppendAccessString"])
        user.access_string = f"{user.access_string} {params['AppendAccessString']}"
    mode = params.get("AuthenticationMode") or {}
    passwords = params.get("Passwords") or mode.get("Passwords")
    if passwords:
        if any(not 16 <= len(password) <= 128 for password in passwords):
            raise InvalidParameterValueException(
                "Passwords length must be between 16-128 characters.")
        user.passwords, user.no_password_required = list(passwords), False
        user.authentication_type = "password"
    if params.get("NoPasswordRequired") in (True, "true"):
        user.passwords, user.no_password_required = [], True
    return user


@dataclass(frozen=True, kw_only=True)
class EffectiveUser:
    """A user as a cache's data plane applies it: its Redis name, rules and passwords."""

    name: str
    access_string: str
    passwords: tuple[str, ...]
    no_password: bool


def effective_users(backend: ElastiCacheBackend, cache: dict[str, Any]
                    ) -> list[EffectiveUser] | None:
    """The users of the cache's user group, by name; None when it has no group (its
    default user stays open, as a cache without access control)."""
    group = groups(backend).get(cache.get("UserGroupId") or "")
    if group is None:
        return None
    users = [backend.users[user_id] for user_id in group.user_ids if user_id in backend.users]
    return sorted((EffectiveUser(name=user.name, access_string=user.access_string,
                                 passwords=tuple(user.passwords),
                                 no_password=bool(user.no_password_required))
                   for user in users), key=lambda user: user.name)


# -- the response handlers moto dispatches to (one per action) --------------------------

def _wrap_create_user(original: Callable[[ElastiCacheResponse], ActionResult]
                      ) -> Callable[[ElastiCacheResponse], ActionResult]:
    def create_user(self: ElastiCacheResponse) -> ActionResult:
        params = self._get_params()
        check_access_string(params.get("AccessString") or "")
        user_id = str(params.get("UserId", "")).lower()
        if user_id in self.elasticache_backend.users:
            raise UserAlreadyExists(user_id)
        return original(self)
    return create_user


def _wrap_delete_user(original: Callable[[ElastiCacheResponse], ActionResult]
                      ) -> Callable[[ElastiCacheResponse], ActionResult]:
    def delete_user_handler(self: ElastiCacheResponse) -> ActionResult:
        delete_user(self.elasticache_backend, self._get_param("UserId"))
        return original(self)
    return delete_user_handler


def _modify_user(self: ElastiCacheResponse) -> ActionResult:
    return ActionResult(modify_user(self.elasticache_backend, self._get_params()))


def _create_group(self: ElastiCacheResponse) -> ActionResult:
    group = create_user_group(self.elasticache_backend, self._get_params())
    return ActionResult(describe(self.elasticache_backend, group, status="creating"))


def _describe_groups(self: ElastiCacheResponse) -> ActionResult:
    backend = self.elasticache_backend
    group_id = self._get_param("UserGroupId")
    found = [_group(backend, group_id)] if group_id else list(groups(backend).values())
    return PaginatedResult({"UserGroups": [describe(backend, group) for group in found]})


def _modify_group(self: ElastiCacheResponse) -> ActionResult:
    group = modify_user_group(self.elasticache_backend, self._get_params())
    return ActionResult(describe(self.elasticache_backend, group))


def _delete_group(self: ElastiCacheResponse) -> ActionResult:
    return ActionResult(delete_user_group(self.elasticache_backend,
                                          self._get_param("UserGroupId")))


def _check_cache_group(backend: ElastiCacheBackend, params: dict[str, Any]) -> None:
    group_id = params.get("UserGroupId")
    if group_id:
        group = _group(backend, group_id)
        if group.status() != "active":
            raise InvalidUserGroupState(f"User group {group.group_id} is not active.")


def install() -> str:
    """Register the actions and wrap moto's user handlers and the serverless cache's."""
    if getattr(ElastiCacheResponse.create_user, "tap_extended", False):
        return NAME
    ElastiCacheResponse.create_user = _wrap_create_user(  # type: ignore[method-assign]
        ElastiCacheResponse.create_user)
    ElastiCacheResponse.create_user.tap_extended = True  # type: ignore[attr-defined]
    ElastiCacheResponse.delete_user = _wrap_delete_user(  # type: ignore[method-assign]
        ElastiCacheResponse.delete_user)
    ElastiCacheResponse.modify_user = _modify_user  # type: ignore[attr-defined]
    ElastiCacheResponse.create_user_group = _create_group  # type: ignore[attr-defined]
    ElastiCacheResponse.describe_user_groups = _describe_groups  # type: ignore[attr-defined]
    ElastiCacheResponse.modify_user_group = _modify_group  # type: ignore[attr-defined]
    ElastiCacheResponse.delete_user_group = _delete_group  # type: ignore[attr-defined]
    create = elasticache_serverless.create_serverless_cache
    modify = elasticache_serverless.modify_serverless_cache

    def create_serverless_cache(backend: ElastiCacheBackend, params: dict[str, Any]
                                ) -> dict[str, Any]:
        _check_cache_group(backend, params)
        return create(backend, params)

    def modify_serverless_cache(backend: ElastiCacheBackend, params: dict[str, Any]
                                ) -> dict[str, Any]:
        _check_cache_group(backend, params)
        return modify(backend, params)

    elasticache_serverless.create_serverless_cache = create_serverless_cache
    elasticache_serverless.modify_serverless_cache = modify_serverless_cache
    return NAME
