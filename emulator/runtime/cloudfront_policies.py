"""What a CloudFront cache behaviour sends to its origin and adds to its answers.

A behaviour names its policies by ID; moto keeps the IDs only (it has no policy objects), so
the managed policies this stack uses (``lib/edge.py``) are known here by their fixed IDs,
with what they forward ("Use managed origin request policies", "Use managed cache policies",
"Use managed response headers policies" in the CloudFront developer guide:
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-origin-request-policies.html,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-cache-policies.html,
https://docs.aws.amazon.com/AmazonCloudFront/latest/DeveloperGuide/using-managed-response-headers-policies.html):

- origin request policies: ``AllViewer`` (every viewer header, the Host included, every
  cookie and query string) and ``AllViewerExceptHostHeader`` (the same without the viewer's
  Host: the origin gets its own domain name as Host);
- without an origin request policy, the origin gets what the cache policy puts in the cache
  key: ``CachingDisabled`` and ``CachingOptimized`` put no header (but Accept-Encoding,
  normalized: not modelled), no cookie and no query string there;
- a behaviour without policies (legacy ``ForwardedValues``): its query-string flag, its
  cookies (none, all, a list) and its headers (a list, or ``*`` for all);
- any other policy ID (the emulator has no custom policies): an origin request policy
  forwards as ``AllViewerExceptHostHeader`` does, a cache policy puts nothing in the key;
- response headers policy ``SecurityHeadersPolicy``: ``Referrer-Policy``,
  ``Strict-Transport-Security``, ``X-Content-Type-Options``, ``X-Frame-Options`` and
  ``X-XSS-Protection``, each added unless the origin's answer has it (origin override off);
  other response headers policies add nothing.

Caching itself is not modelled: every request goes to the origin, which is what
``CachingDisabled`` does for the stack's dynamic paths; its ``/static/*`` behaviour
(``CachingOptimized``) is a miss every time too. Exposes ``Forwarding``, ``forwarding``,
``select_query``, ``select_cookies`` and ``response_headers``.
"""
from __future__ import annotations

import urllib.parse
from dataclasses import dataclass
from typing import Any

from emulator.runtime.proxy import Headers, header

ALL, NONE, ALL_BUT_HOST = "all", "none", "all-but-host"
Selection = str | frozenset[str]


@dataclass(frozen=True)
class Forwarding:
    """What of the viewer's request reaches the origin: headers (``ALL``, ``ALL_BUT_HOST`` or
    lower-case names), cookies and query-string parameters (``ALL``, ``NONE`` or names)."""

    headers: Selection
    cookies: Selection
    query: Selection

    def forwards(self, name: str) -> bool:
        lowered = name.lower()
        if self.headers == ALL:
            return True
        if self.headers == ALL_BUT_HOST:
            return lowered != "host"
        return isinstance(self.headers, frozenset) and lowered in self.headers


NOTHING = Forwarding(frozenset(), NONE, NONE)
ORIGIN_REQUEST_POLICIES = {
    "216adef6-5c7f-47e4-b989-5492eafa07d3": Forwarding(ALL, ALL, ALL),  # AllViewer
    "b689b0a8-53d0-40ab-baf2-68738e2966ac": Forwarding(ALL_BUT_HOST, ALL, ALL),  # ...ExceptHost
}
UNKNOWN_ORIGIN_REQUEST_POLICY = Forwarding(ALL_BUT_HOST, ALL, ALL)
CACHE_KEYS = {
    "4135ea2d-6df8-44a3-9df3-4b5a84be39ad": NOTHING,  # CachingDisabled
    "658327ea-f89d-4fab-a63d-7e88639e58f6": NOTHING,  # CachingOptimized
}
SECURITY_HEADERS_POLICY = "67f7725c-6f97-4210-82d7-5512b31e9d03"
RESPONSE_HEADERS_POLICIES: dict[str, tuple[tuple[str, str], ...]] = {
    SECURITY_HEADERS_POLICY: (
        ("Referrer-Policy", "strict-origin-when-cross-origin"),
        ("Strict-Transport-Security", "max-age=31536000"),
        ("X-Content-Type-Options", "nosniff"),
        ("X-Frame-Options", "SAMEORIGIN"),
        ("X-XSS-Protection", "1; mode=block")),
}


def _names(block: Any, lower: bool = True) -> frozenset[str]:
    items = [str(item) for item in (block or {}).get("Items") or []]
    return frozenset(item.lower() if lower else item for item in items)


def _legacy(values: Any) -> Forwarding:
    """A behaviour's ``ForwardedValues`` (no cache policy)."""
    settings = vars(values) if values is not None else {}
    header_names = _names(settings.get("Headers"))
    cookies = settings.get("Cookies") or {}
    forward = str(cookies.get("Forward", "none"))
    return Forwarding(
        ALL if "*" in header_names else header_names,
        {"all": ALL, "none": NONE}.get(forward, _names(cookies.get("WhitelistedNames"), False)),
        ALL if str(settings.get("QueryString", False)).lower() == "true" else NONE)


def forwarding(behaviour: Any) -> Forwarding:
    """What ``behaviour`` (moto's cache behaviour) sends on to its origin."""
    if behaviour.origin_request_policy_id:
        return ORIGIN_REQUEST_POLICIES.get(behaviour.origin_request_policy_id,
                                           UNKNOWN_ORIGIN_REQUEST_POLICY)
    if behaviour.cache_policy_id:
        return CACHE_KEYS.get(behaviour.cache_policy_id, NOTHING)
    return _legacy(behaviour.forwarded_values)


def select_query(query: str, selection: Selection) -> str:
    """The query string the origin gets (parameter names compared case-sensitively)."""
    if selection == ALL:
        return query
    if not isinstance(selection, frozenset):
        return ""
    return "&".join(part for part in query.split("&") if part
                    and urllib.parse.unquote_plus(part.split("=", 1)[0]) in selection)


def select_cookies(cookie: str | None, selection: Selection) -> str | None:
    """The Cookie header the origin gets, None for none (names compared case-sensitively)."""
    if cookie is None or selection == NONE:
        return None
    if selection == ALL:
        return cookie
    if not isinstance(selection, frozenset):
        return None
    kept = [part.strip() for part in cookie.split(";")
            if part.strip().split("=", 1)[0] in selection]
    return "; ".join(kept) or None


def response_headers(behaviour: Any, headers: Headers) -> Headers:
    """``headers`` with what the behaviour's response headers policy adds."""
    added = RESPONSE_HEADERS_POLICIES.get(behaviour.response_headers_policy_id or "", ())
    return headers + [(name, value) for name, value in added if header(headers, name) is None]
