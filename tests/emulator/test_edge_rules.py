"""The edge's decisions on their own, without an emulator: how a load balancer's rule
conditions match, where a redirect goes, which targets a request may reach (fail open),
what a CloudFront behaviour forwards, and which certificate names do for an origin."""
from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from emulator.runtime.alb_rules import (condition_matches, final_action, first_match,
                                        fixed_response, redirect)
from emulator.runtime.balancers import forwarded_headers, routable
from emulator.runtime.cloudfront_policies import (ALL, NONE, Forwarding, forwarding,
                                                  response_headers, select_cookies,
                                                  select_query)
from emulator.runtime.distributions import behaviour_for, certificate_problem, name_matches
from emulator.runtime.proxy import Request, end_to_end


def request(target: str, *headers: tuple[str, str], method: str = "GET",
            client: str = "10.0.0.7", scheme: str = "http", port: int = 80) -> Request:
    return Request(method=method, target=target, headers=list(headers), client=client,
                   scheme=scheme, port=port)


@pytest.mark.parametrize(("condition", "matching", "other"), [
    ({"Field": "host-header", "HostHeaderConfig": {"Values": ["*.Example.com"]}},
     request("/", ("Host", "WWW.example.COM:8080")), request("/", ("Host", "example.com"))),
    ({"Field": "path-pattern", "Values": ["/api/v?/*"]},
     request("/api/v1/items?x=1"), request("/API/v1/items")),
    ({"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-Origin-Verify",
                                                   "Values": ["Secret", "other"]}},
     request("/", ("x-origin-verify", "SECRET")), request("/", ("X-Origin-Verify", "secrets"))),
    ({"Field": "http-request-method", "HttpRequestMethodConfig": {"Values": ["POST"]}},
     request("/", method="POST"), request("/", method="GET")),
    ({"Field": "query-string", "QueryStringConfig": {"Values": [{"Key": "Ver*", "Value": "a\\*"}]}},
     request("/?version=A*"), request("/?version=ab")),
    ({"Field": "query-string", "QueryStringConfig": {"Values": [{"Value": "blue"}]}},
     request("/?colour=BLUE"), request("/?colour=green")),
    ({"Field": "source-ip", "SourceIpConfig": {"Values": ["10.0.0.0/24"]}},
     request("/", client="10.0.0.200"), request("/", client="10.0.1.1")),
])
def test_a_condition_matches_as_the_elb_guide_says(condition: dict[str, Any],
                                                   matching: Request, other: Request) -> None:
    assert condition_matches(condition, matching) is True
    assert condition_matches(condition, other) is False


def action(kind: str, order: int | None = None, **config: Any) -> Any:
    data = {"Type": kind, **config, **({"Order": order} if order is not None else {})}
    return SimpleNamespace(type=kind, data=data)


def rule(priority: Any, conditions: list[dict[str, Any]], *actions: Any) -> Any:
    return SimpleNamespace(priority=priority, is_default=priority == "default",
                           conditions=conditions, actions=list(actions))


def test_rules_are_tried_by_priority_and_the_default_rule_last() -> None:
    header = {"Field": "http-header", "HttpHeaderConfig": {"HttpHeaderName": "X-A",
                                                           "Values": ["1"]}}
    path = {"Field": "path-pattern", "Values": ["/a*"]}
    listener = SimpleNamespace(rules={
        "default": rule("default", [], action("fixed-response")),
        "r20": rule(20, [header], action("forward")),
        "r3": rule(3, [header, path], action("redirect")),
    })
    assert first_match(listener, request("/abc", ("X-A", "1"))).priority == 3
    assert first_match(listener, request("/b", ("X-A", "1"))).priority == 20
    assert first_match(listener, request("/abc")).priority == "default"


def test_the_last_action_in_order_answers_and_authentication_is_not_modelled() -> None:
    chosen, problem = final_action([action("forward", 2), action("fixed-response", 1)])
    assert (chosen.type, problem) == ("forward", None)
    chosen, problem = final_action([action("authenticate-oidc", 1), action("forward", 2)])
    assert (chosen, problem) == (None, "the emulator does not model authenticate-oidc actions")


def test_a_redirect_fills_the_placeholders_and_names_the_port() -> None:
    received = request("/a/b?c=d", ("Host", "Site.example.com"))
    https = redirect({"Protocol": "HTTPS", "Port": "443", "StatusCode": "HTTP_301"}, received)
    assert (https.status, https.header("Location"), https.header("Server")) == (
        301, "https://site.example.com:443/a/b?c=d", "awselb/2.0")
    moved = redirect({"Host": "new.#{host}", "Path": "/moved/#{path}",
                      "Query": "from=#{port}&#{query}", "StatusCode": "HTTP_302"}, received)
    assert (moved.status, moved.header("Location")) == (
        302, "http://new.site.example.com:80/moved/a/b?from=80&c=d")
    bare = redirect({"Protocol": "#{protocol}", "StatusCode": "HTTP_301"},
                    request("/x", ("Host", "h.example.com"), scheme="https", port=8443))
    assert bare.header("Location") == "https://h.example.com:8443/x"


def test_a_fixed_response_answers_its_status_type_and_body() -> None:
    answer = fixed_response({"StatusCode": "403", "ContentType": "text/plain",
                             "MessageBody": "Forbidden"})
    assert (answer.status, answer.headers, answer.body) == (
        403, [("Server", "awselb/2.0"), ("Content-Type", "text/plain")], b"Forbidden")


def health(*states: tuple[str, str]) -> list[Any]:
    return [SimpleNamespace(instance_id=target, port="8080", status=state)
            for target, state in states]


def test_requests_go_to_healthy_targets_fail_open_when_all_are_unhealthy_else_nowhere() -> None:
    assert routable(health(("10.0.0.2", "healthy"), ("10.0.0.1", "unhealthy"),
                           ("10.0.0.3", "healthy"))) == [("10.0.0.2", 8080), ("10.0.0.3", 8080)]
    assert routable(health(("10.0.0.2", "unhealthy"), ("10.0.0.1", "unhealthy"))) == [
        ("10.0.0.1", 8080), ("10.0.0.2", 8080)]
    assert routable(health(("10.0.0.2", "unhealthy"), ("10.0.0.1", "draining"))) == []
    assert routable(health(("10.0.0.1", "initial"))) == []
    assert routable([]) == []


def test_the_load_balancer_adds_the_forwarded_headers_it_documents() -> None:
    received = request("/", ("Host", "h"), ("X-Forwarded-For", "203.0.113.9"),
                       ("X-Forwarded-Proto", "forged"), ("Connection", "close, X-Hop"),
                       ("X-Hop", "1"), ("Bad_Name", "x"), ("X-Amzn-Trace-Id", "Root=given"),
                       client="10.0.0.5", scheme="https", port=443)
    assert forwarded_headers({"routing.http.drop_invalid_header_fields.enabled": "true"},
                             received) == [
        ("Host", "h"), ("X-Amzn-Trace-Id", "Root=given"),
        ("X-Forwarded-For", "203.0.113.9, 10.0.0.5"), ("X-Forwarded-Proto", "https"),
        ("X-Forwarded-Port", "443")]
    removed = forwarded_headers({"routing.http.xff_header_processing.mode": "remove"}, received)
    assert [name for name, _ in removed] == ["Host", "Bad_Name", "X-Amzn-Trace-Id",
                                             "X-Forwarded-Proto", "X-Forwarded-Port"]


def behaviour(**settings: Any) -> Any:
    defaults = {"origin_request_policy_id": "", "cache_policy_id": "",
                "forwarded_values": None, "response_headers_policy_id": None}
    return SimpleNamespace(**{**defaults, **settings})


def test_a_behaviour_forwards_what_its_policies_say() -> None:
    all_viewer = forwarding(behaviour(origin_request_policy_id=
                                      "216adef6-5c7f-47e4-b989-5492eafa07d3"))
    assert (all_viewer.forwards("Host"), all_viewer.cookies, all_viewer.query) == (True, ALL, ALL)
    except_host = forwarding(behaviour(cache_policy_id="4135ea2d-6df8-44a3-9df3-4b5a84be39ad",
                                       origin_request_policy_id=
                                       "b689b0a8-53d0-40ab-baf2-68738e2966ac"))
    assert (except_host.forwards("host"), except_host.forwards("X-Any")) == (False, True)
    optimized = forwarding(behaviour(cache_policy_id="658327ea-f89d-4fab-a63d-7e88639e58f6"))
    assert optimized == Forwarding(frozenset(), NONE, NONE)
    legacy = forwarding(behaviour(forwarded_values=SimpleNamespace(
        QueryString=True, Headers={"Items": ["Authorization"]},
        Cookies={"Forward": "whitelist", "WhitelistedNames": {"Items": ["session"]}})))
    assert legacy == Forwarding(frozenset({"authorization"}), frozenset({"session"}), ALL)
    assert select_query("a=1&B=2&b=3", frozenset({"b"})) == "b=3"
    assert select_query("a=1", NONE) == ""
    assert select_cookies("session=1; other=2", frozenset({"session"})) == "session=1"
    assert select_cookies("other=2", frozenset({"session"})) is None


def test_the_security_headers_policy_adds_what_the_origin_did_not_send() -> None:
    secured = behaviour(response_headers_policy_id="67f7725c-6f97-4210-82d7-5512b31e9d03")
    assert response_headers(secured, [("X-Frame-Options", "DENY")]) == [
        ("X-Frame-Options", "DENY"),
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Strict-Transport-Security", "max-age=31536000"),
        ("X-Content-Type-Options", "nosniff"), ("X-XSS-Protection", "1; mode=block")]
    assert response_headers(behaviour(), [("A", "1")]) == [("A", "1")]


def test_the_first_ordered_behaviour_whose_pattern_matches_serves_the_path() -> None:
    static = SimpleNamespace(path_pattern="static/*.css")
    images = SimpleNamespace(path_pattern="/img/?/*")
    config = SimpleNamespace(CacheBehaviors={"Quantity": 2, "Items": [static, images]},
                             DefaultCacheBehavior="default")
    assert behaviour_for(config, "/static/site.css") is static
    assert behaviour_for(config, "/img/a/b.png") is images
    assert behaviour_for(config, "/Static/site.css") == "default"
    assert behaviour_for(config, "/img/ab/b.png") == "default"


def test_an_origin_certificate_must_name_the_origin_or_the_host_sent() -> None:
    certificate = {"subjectAltName": (("DNS", "alb-1.us-east-1.elb.amazonaws.com"),
                                      ("DNS", "*.example.com"))}
    assert certificate_problem({"www.example.com", "other.test"}, certificate) is None
    assert certificate_problem({"alb-1.us-east-1.elb.amazonaws.com"}, certificate) is None
    assert certificate_problem({"a.b.example.com"}, certificate) == (
        "the certificate names ['alb-1.us-east-1.elb.amazonaws.com', '*.example.com'], "
        "none of ['a.b.example.com']")
    assert (name_matches("*.example.com", "example.com"), name_matches("A.test", "a.TEST")) == (
        False, True)


def test_a_proxy_drops_hop_by_hop_headers() -> None:
    assert end_to_end([("Connection", "keep-alive, X-Private"), ("X-Private", "1"),
                       ("Keep-Alive", "5"), ("Content-Length", "3"), ("Transfer-Encoding", "x"),
                       ("X-Kept", "2")]) == [("Content-Length", "3"), ("X-Kept", "2")]
