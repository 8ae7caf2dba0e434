"""How an Application Load Balancer's listener picks a rule and answers without a target.

A listener "evaluates the request against each rule in priority order, starting with the
lowest numbered rule", the default rule last, and performs the actions of the first rule
whose conditions all match (ELB user guide, "Listener rules for your Application Load
Balancer": https://docs.aws.amazon.com/elasticloadbalancing/latest/application/listener-rules.html).
A condition is met when one of its values matches ("Condition types for listener rules",
https://docs.aws.amazon.com/elasticloadbalancing/latest/application/rule-condition-types.html),
with ``*`` (any run of characters) and ``?`` (exactly one) as wildcards:

- ``host-header``: the Host header's name (no port); not case-sensitive;
- ``path-pattern``: the path of the URL, not its query string; case-sensitive;
- ``http-header``: the values of the named header (the name not case-sensitive), compared
  not case-sensitively;
- ``http-request-method``: the method, case-sensitive, no wildcards;
- ``query-string``: a ``Key``/``Value`` pair (or a value alone) found among the query's
  parameters, not case-sensitive, ``\\`` escaping a literal ``*`` or ``?``
  (https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_QueryStringConditionConfig.html);
- ``source-ip``: the connection's peer address in one of the CIDR blocks.

Actions run in their ``Order``; the last is ``forward``, ``redirect`` or ``fixed-response``.
``redirect`` and ``fixed-response`` are answered here (the ELBv2 API reference's
``RedirectActionConfig``: each component defaults to the request's own, ``#{protocol}``,
``#{host}``, ``#{port}``, ``#{path}`` (without its leading ``/``) and ``#{query}`` are replaced
by the request's, ``HTTP_301`` or ``HTTP_302``; the Location always names the port, as the
console shows it, ``HTTPS://#{host}:443/#{path}?#{query}``:
https://docs.aws.amazon.com/elasticloadbalancing/latest/APIReference/API_RedirectActionConfig.html).
``forward`` is the load balancer's (``emulator.runtime.balancers``). ``authenticate-oidc``
and ``authenticate-cognito`` are not modelled: a rule that has one answers 500 saying so,
rather than letting a request through unauthenticated. ``elb_page`` is the body the load
balancer writes for its own answers (502, 503, 504, redirects), with ``Server: awselb/2.0``.
"""
from __future__ import annotations

import ipaddress
import urllib.parse
from typing import Any, Callable

from emulator.runtime.proxy import Request, Response, wildcard

SERVER = ("Server", "awselb/2.0")
FINAL_ACTIONS = ("forward", "redirect", "fixed-response")
REASONS = {301: "Moved Permanently", 302: "Found", 403: "Forbidden", 500: "Internal Server Error",
           502: "Bad Gateway", 503: "Service Temporarily Unavailable", 504: "Gateway Time-out"}


def elb_page(status: int, headers: list[tuple[str, str]] | None = None) -> Response:
    """An answer of the load balancer itself, with the small HTML page it writes."""
    title = f"{status} {REASONS.get(status, '')}".strip()
    body = (f"<html>\r\n<head><title>{title}</title></head>\r\n<body>\r\n"
            f"<center><h1>{title}</h1></center>\r\n</body>\r\n</html>\r\n").encode()
    return Response(status=status, body=body,
                    headers=[SERVER, ("Content-Type", "text/html"), *(headers or [])])


def _values(condition: dict[str, Any], config: str) -> list[Any]:
    return list((condition.get(config) or {}).get("Values") or condition.get("Values") or [])


def _any(patterns: list[str], values: list[str], ignore_case: bool,
         escapes: bool = False) -> bool:
    return any(wildcard(pattern, ignore_case, escapes).fullmatch(value)
               for pattern in patterns for value in values)


def _query_matches(pairs: list[dict[str, str]], query: str) -> bool:
    found = urllib.parse.parse_qsl(query, keep_blank_values=True)
    for pair in pairs:
        for key, value in found:
            if pair.get("Key") is not None and not _any([pair["Key"]], [key], True, True):
                continue
            if _any([pair.get("Value", "")], [value], True, True):
                return True
    return False


def _in_blocks(blocks: list[str], client: str) -> bool:
    try:
        address = ipaddress.ip_address(client)
    except ValueError:
        return False
    return any(address in ipaddress.ip_network(block, strict=False) for block in blocks)


def _header_matches(condition: dict[str, Any], request: Request) -> bool:
    config = condition.get("HttpHeaderConfig") or {}
    name = str(config.get("HttpHeaderName", "")).lower()
    present = [value for key, value in request.headers if key.lower() == name]
    return _any(list(config.get("Values") or []), present, True)


MATCHERS: dict[str, Callable[[dict[str, Any], Request], bool]] = {
    "host-header": lambda c, r: _any(_values(c, "HostHeaderConfig"), [r.host()], True),
    "path-pattern": lambda c, r: _any(_values(c, "PathPatternConfig"), [r.path], False),
    "http-header": _header_matches,
    "http-request-method": lambda c, r: r.method in _values(c, "HttpRequestMethodConfig"),
    "query-string": lambda c, r: _query_matches(_values(c, "QueryStringConfig"), r.query),
    "source-ip": lambda c, r: _in_blocks(_values(c, "SourceIpConfig"), r.client),
}


def condition_matches(condition: dict[str, Any], request: Request) -> bool:
    """Whether ``request`` meets one rule condition (as moto keeps it: the API's shape)."""
    matcher = MATCHERS.get(str(condition.get("Field")))
    return matcher is not None and matcher(condition, request)


def ordered_rules(listener: Any) -> list[Any]:
    """The listener's rules in evaluation order: by priority, the default rule last."""
    rules = list(listener.rules.values())
    return sorted((rule for rule in rules if not rule.is_default), key=lambda r: int(r.priority)) \
        + [rule for rule in rules if rule.is_default]


def first_match(listener: Any, request: Request) -> Any:
    """The rule whose actions answer ``request``."""
    return next(rule for rule in ordered_rules(listener)
                if all(condition_matches(condition, request) for condition in rule.conditions))


def final_action(actions: list[Any]) -> tuple[Any | None, str | None]:
    """(the action that answers, None) or (None, why the emulator cannot answer)."""
    # Order is required only when a rule has more than one action; without it, as listed.
    ordered = [action for _, action in sorted(
        enumerate(actions), key=lambda pair: int(pair[1].data.get("Order") or pair[0]))]
    unmodelled = [action.type for action in ordered if action.type not in FINAL_ACTIONS]
    if unmodelled:
        return None, f"the emulator does not model {', '.join(unmodelled)} actions"
    return ordered[-1], None


def redirect(config: dict[str, Any], request: Request) -> Response:
    """A redirect action's answer to ``request`` (received on its listener's scheme/port)."""
    path = request.path[1:] if request.path.startswith("/") else request.path
    values = {"#{protocol}": request.scheme, "#{host}": request.host(),
              "#{port}": str(request.port), "#{path}": path, "#{query}": request.query}

    def fill(key: str, default: str) -> str:
        text = config.get(key)
        text = default if text is None else str(text)
        for placeholder, value in values.items():
            text = text.replace(placeholder, value)
        return text

    location = (f"{fill('Protocol', '#{protocol}').lower()}://{fill('Host', '#{host}')}:"
                f"{fill('Port', '#{port}')}{fill('Path', '/#{path}')}")
    query = fill("Query", "#{query}")
    if query:
        location += f"?{query}"
    status = 301 if config.get("StatusCode") == "HTTP_301" else 302
    return elb_page(status, [("Location", location)])


def fixed_response(config: dict[str, Any]) -> Response:
    """A fixed-response action's answer."""
    headers = [SERVER]
    if config.get("ContentType"):
        headers.append(("Content-Type", str(config["ContentType"])))
    return Response(status=int(config["StatusCode"]), headers=headers,
                    body=str(config.get("MessageBody") or "").encode())


def not_modelled(reason: str) -> Response:
    return Response(status=500, headers=[SERVER, ("Content-Type", "text/plain")],
                    body=f"{reason}\n".encode())
