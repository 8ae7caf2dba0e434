"""ElastiCache users and user groups (emulator/moto_ext/elasticache_users.py) through boto3,
as the shared stack and an environment's terraform call them; plain moto has no user
groups at all."""
from __future__ import annotations

import time
from typing import Any, Callable

import pytest
from botocore.exceptions import ClientError

from emulator.moto_ext.elasticache_users import MODIFY_SECONDS

PASSWORD = "a-password-of-32-characters-0123"
APP_ACCESS = "on ~tap:pr1:* -@all +@read +@write +@connection +@keyspace -@dangerous"


def error(caught: pytest.ExceptionInfo[ClientError]) -> tuple[str, str]:
    return caught.value.response["Error"]["Code"], caught.value.response["Error"]["Message"]


def user(elasticache: Any, user_id: str, name: str, access: str = APP_ACCESS) -> dict[str, Any]:
    return elasticache.create_user(UserId=user_id, UserName=name, Engine="valkey",
                                   AccessString=access, Passwords=[PASSWORD])  # type: ignore


def group(elasticache: Any, group_id: str, *user_ids: str) -> dict[str, Any]:
    return elasticache.create_user_group(UserGroupId=group_id, Engine="valkey",  # type: ignore
                                         UserIds=list(user_ids))


def settled(elasticache: Any, group_id: str) -> dict[str, Any]:
    """The group once its change is applied (``modifying`` lasts MODIFY_SECONDS)."""
    time.sleep(MODIFY_SECONDS)
    found = elasticache.describe_user_groups(UserGroupId=group_id)["UserGroups"][0]
    assert found["Status"] == "active"
    return found  # type: ignore[no-any-return]


def test_plain_moto_takes_a_password_in_an_access_string(plain_client: Callable[..., Any]
                                                          ) -> None:
    """What the extension refuses, plain moto stores (and it has no user groups at all:
    CreateUserGroup is NotImplementedError there, an HTTP 500)."""
    plain = plain_client("elasticache")
    user(plain, "plain-user", "plain", "on >secret-password ~* +@all")
    assert plain.describe_users(UserId="plain-user")["Users"][0]["AccessString"] == (
        "on >secret-password ~* +@all")


def test_a_group_with_a_disabled_default_user_and_an_environments_user(
        client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    user(elasticache, "ug1-default", "default", "off ~* +@all")
    created = group(elasticache, "UG1", "ug1-default")
    assert (created["UserGroupId"], created["Status"], created["UserIds"]) == (
        "ug1", "creating", ["ug1-default"])
    assert created["ARN"] == "arn:aws:elasticache:us-east-1:123456789012:usergroup:ug1"
    user(elasticache, "tap-pr1", "tap-pr1")
    modified = elasticache.modify_user_group(UserGroupId="ug1", UserIdsToAdd=["tap-pr1"])
    assert (modified["Status"], modified["UserIds"], modified["PendingChanges"]) == (
        "modifying", ["ug1-default", "tap-pr1"],
        {"UserIdsToRemove": [], "UserIdsToAdd": ["tap-pr1"]})
    # A second change while the first is applied: refused (the provider retries on it).
    with pytest.raises(ClientError) as caught:
        elasticache.modify_user_group(UserGroupId="ug1", UserIdsToRemove=["tap-pr1"])
    assert error(caught) == ("InvalidUserGroupState", "User group ug1 has status modifying. "
                                                      "Only active user groups can be modified.")
    found = settled(elasticache, "ug1")
    assert (found["UserIds"], "PendingChanges" in found) == (["ug1-default", "tap-pr1"], False)
    described = elasticache.describe_users(UserId="tap-pr1")["Users"][0]
    assert (described["UserName"], described["UserGroupIds"], described["AccessString"],
            described["Authentication"]) == (
        "tap-pr1", ["ug1"], APP_ACCESS, {"Type": "password", "PasswordCount": 1})


def test_a_groups_tags(client: Callable[..., Any]) -> None:
    """ListTagsForResource takes a user group's ARN (the provider reads the tags after
    CreateUserGroup), and the tags follow AddTagsToResource / RemoveTagsFromResource."""
    elasticache = client("elasticache")
    user(elasticache, "ug5-default", "default", "off ~* +@all")
    arn = elasticache.create_user_group(UserGroupId="ug5", Engine="valkey",
                                        UserIds=["ug5-default"],
                                        Tags=[{"Key": "Project", "Value": "tap"}])["ARN"]
    assert elasticache.list_tags_for_resource(ResourceName=arn)["TagList"] == [
        {"Key": "Project", "Value": "tap"}]
    elasticache.add_tags_to_resource(ResourceName=arn, Tags=[{"Key": "Tenancy",
                                                               "Value": "shared"}])
    elasticache.remove_tags_from_resource(ResourceName=arn, TagKeys=["Project"])
    assert elasticache.list_tags_for_resource(ResourceName=arn)["TagList"] == [
        {"Key": "Tenancy", "Value": "shared"}]


def test_group_membership_rules(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    user(elasticache, "ug2-default", "default", "off ~* +@all")
    user(elasticache, "ug2-app", "tap-ug2")
    user(elasticache, "ug2-app-again", "tap-ug2")
    with pytest.raises(ClientError) as caught:
        group(elasticache, "ug2", "ug2-app")
    assert error(caught) == ("DefaultUserRequired", "You must add default user to a user group.")
    with pytest.raises(ClientError) as caught:
        group(elasticache, "ug2", "ug2-default", "missing")
    assert error(caught) == ("UserNotFound", "User missing not found.")
    with pytest.raises(ClientError) as caught:
        group(elasticache, "ug2", "ug2-default", "default")  # AWS's own default user too
    assert error(caught) == ("DuplicateUserName",
                             "A user with the username default already exists in the user "
                             "group.")
    group(elasticache, "ug2", "ug2-default", "ug2-app")
    with pytest.raises(ClientError) as caught:
        group(elasticache, "ug2", "ug2-default")
    assert error(caught) == ("UserGroupAlreadyExists", "User group ug2 already exists.")
    with pytest.raises(ClientError) as caught:
        elasticache.modify_user_group(UserGroupId="ug2", UserIdsToAdd=["ug2-app-again"])
    assert error(caught)[0] == "DuplicateUserName"
    with pytest.raises(ClientError) as caught:
        elasticache.modify_user_group(UserGroupId="ug2", UserIdsToRemove=["ug2-default"])
    assert error(caught) == ("DefaultUserRequired", "You must add default user to a user group.")
    with pytest.raises(ClientError) as caught:
        elasticache.modify_user_group(UserGroupId="ug2", UserIdsToRemove=["ug2-app-again"])
    assert error(caught) == ("InvalidParameterValue",
                             "User ug2-app-again is not a member of user group ug2.")
    with pytest.raises(ClientError) as caught:
        elasticache.describe_user_groups(UserGroupId="nope")
    assert error(caught) == ("UserGroupNotFound", "User group nope not found.")


def test_access_strings_without_passwords_or_reset(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    for access, message in (
            ("on >secret-password ~* +@all",
             "Access string must not contain passwords: set them with Passwords."),
            ("on nopass ~* +@all",
             "Access string must not contain nopass: passwords are set with Passwords."),
            ("reset on ~* +@all",
             "Access string must not contain reset: passwords are set with Passwords.")):
        with pytest.raises(ClientError) as caught:
            user(elasticache, "bad-access", "bad", access)
        assert error(caught) == ("InvalidParameterValue", message)
    user(elasticache, "dup-user", "dup")
    with pytest.raises(ClientError) as caught:
        user(elasticache, "dup-user", "dup")
    assert error(caught) == ("UserAlreadyExists", "User dup-user already exists.")


def test_modify_user(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    user(elasticache, "mod-user", "mod")
    elasticache.modify_user(UserId="mod-user", AccessString="on ~other:* +get",
                            Passwords=["another-password-0123456789"])
    elasticache.modify_user(UserId="mod-user", AppendAccessString="+set")
    described = elasticache.describe_users(UserId="mod-user")["Users"][0]
    assert (described["AccessString"], described["Authentication"]) == (
        "on ~other:* +get +set", {"Type": "password", "PasswordCount": 1})
    with pytest.raises(ClientError) as caught:
        elasticache.modify_user(UserId="mod-user", AccessString="on >x ~* +@all")
    assert error(caught)[0] == "InvalidParameterValue"


def test_delete_user_leaves_its_groups_but_a_default_user_stays(
        client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    user(elasticache, "ug3-default", "default", "off ~* +@all")
    user(elasticache, "ug3-app", "tap-ug3")
    group(elasticache, "ug3", "ug3-default", "ug3-app")
    elasticache.delete_user(UserId="ug3-app")
    assert elasticache.describe_user_groups(UserGroupId="ug3")["UserGroups"][0]["UserIds"] == [
        "ug3-default"]
    with pytest.raises(ClientError) as caught:
        elasticache.delete_user(UserId="ug3-default")
    assert error(caught) == ("DefaultUserAssociatedToUserGroup",
                             "User ug3-default is the default user of user group ug3: "
                             "replace it in the group first.")


def test_a_cache_with_a_group_and_the_groups_deletion(client: Callable[..., Any]) -> None:
    elasticache = client("elasticache")
    user(elasticache, "ug4-default", "default", "off ~* +@all")
    group(elasticache, "ug4", "ug4-default")
    with pytest.raises(ClientError) as caught:
        elasticache.create_serverless_cache(ServerlessCacheName="ug-missing", Engine="valkey",
                                            UserGroupId="nope")
    assert error(caught) == ("UserGroupNotFound", "User group nope not found.")
    cache = elasticache.create_serverless_cache(ServerlessCacheName="ug-cache", Engine="valkey",
                                                UserGroupId="ug4")["ServerlessCache"]
    assert cache["UserGroupId"] == "ug4"
    assert elasticache.describe_user_groups(UserGroupId="ug4")["UserGroups"][0][
        "ServerlessCaches"] == ["ug-cache"]
    with pytest.raises(ClientError) as caught:
        elasticache.delete_user_group(UserGroupId="ug4")
    assert error(caught) == ("InvalidUserGroupState",
                             "User group ug4 is associated with serverless cache ug-cache: it "
                             "must be disassociated before it can be deleted.")
    elasticache.modify_serverless_cache(ServerlessCacheName="ug-cache", RemoveUserGroup=True)
    deleted = elasticache.delete_user_group(UserGroupId="ug4")
    assert (deleted["Status"], deleted["UserIds"]) == ("deleting", ["ug4-default"])
    with pytest.raises(ClientError) as caught:
        elasticache.describe_user_groups(UserGroupId="ug4")
    assert error(caught)[0] == "UserGroupNotFound"
    assert elasticache.describe_users(UserId="ug4-default")["Users"][0]["UserGroupIds"] == []
    elasticache.delete_serverless_cache(ServerlessCacheName="ug-cache")
