"""The site on the emulator's edge, asked as a viewer asks it: an ECS service of the echo image
behind an internal Application Load Balancer whose HTTP listener answers 403 unless the
request carries CloudFront's ``X-Origin-Verify`` header, and a CloudFront distribution in
front of it through a VPC origin. The viewer gets the task's answer through the distribution,
the load balancer refuses it without the header, HTTP viewers are redirected; then the
distribution takes an alias and moves to an HTTPS listener through a second VPC origin,
forwarding the viewer's Host, which the listener's certificate covers (as lib/edge.py does),
with the site answering throughout; port 80 turns into a redirect, the service scales to
nothing (503) and the HTTPS listener goes (502 at the edge). A second target group is a
server of this test process that answers with what it received, to see what CloudFront and
the load balancer add.

The tests are one life, in order. Another process holds 127.0.4.1:80, as another emulator's
runtime may: the load balancer moves on to the next address."""
# pylint: disable=redefined-outer-name
from __future__ import annotations

import json
import re
import socket
import ssl
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Callable, Iterator

import pytest

from emulator.runtime.proxy import Response
from emulator.runtime.viewer import fetch
from tests.emulator.runtime_support import Cloud, call, runtime_emulator, wait_for

SECRET = "Verified-By-CloudFront-0123456789"
VERIFY = ("X-Origin-Verify", SECRET)
MIRROR = ("127.0.6.1", 8081)  # this process's server: a loopback address no pool hands out
HELD = ("127.0.4.1", 80)  # "another runtime's" listener
FORBIDDEN = {"Type": "fixed-response", "FixedResponseConfig": {
    "StatusCode": "403", "ContentType": "text/plain", "MessageBody": "Forbidden"}}
CACHING_DISABLED = "4135ea2d-6df8-44a3-9df3-4b5a84be39ad"
CACHING_OPTIMIZED = "658327ea-f89d-4fab-a63d-7e88639e58f6"
ALL_VIEWER_EXCEPT_HOST = "b689b0a8-53d0-40ab-baf2-68738e2966ac"
ALL_VIEWER = "216adef6-5c7f-47e4-b989-5492eafa07d3"
ALIAS = "www.example.com"
SECURITY_HEADERS = "67f7725c-6f97-4210-82d7-5512b31e9d03"
ALL_METHODS = ["GET", "HEAD", "OPTIONS", "PUT", "PATCH", "POST", "DELETE"]
SECURITY = {"referrer-policy": "strict-origin-when-cross-origin",
            "strict-transport-security": "max-age=31536000",
            "x-content-type-options": "nosniff", "x-frame-options": "SAMEORIGIN",
            "x-xss-protection": "1; mode=block"}


class Mirror(ThreadingHTTPServer):
    """Answers 200 with what it received: method, target and headers (in order)."""

    daemon_threads = True

    def __init__(self) -> None:
        self.seen: list[dict[str, Any]] = []

        class Handler(BaseHTTPRequestHandler):
            """Records the request, answers it as JSON."""

            protocol_version = "HTTP/1.1"

            def answer(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                seen = {"method": self.command, "target": self.path,
                        "headers": list(self.headers.items()),
                        "body": self.rfile.read(length).decode()}
                mirror.seen.append(seen)
                data = json.dumps(seen).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                if self.command != "HEAD":
                    self.wfile.write(data)

            do_GET = do_POST = do_HEAD = answer

            def log_message(self, *_: Any) -> None:  # pylint: disable=arguments-differ
                return

        mirror = self
        super().__init__(MIRROR, Handler)


@dataclass
class Site:  # pylint: disable=too-many-instance-attributes
    """The life's world, shared by the tests of this module in order."""

    cloud: Cloud
    runtime: Path
    balancer: str
    dns: str
    http_listener: str
    group: str
    mirror_group: str
    distribution: str
    domain: str
    mirror: Mirror
    https_listener: str = ""
    host: str = ""  # the viewer's name of the site: the distribution's, then its alias

    def get(self, url: str, *headers: tuple[str, str], method: str = "GET",
            body: bytes = b"") -> Response:
        return fetch(url, runtime_dir=self.runtime, headers=list(headers), method=method,
                     body=body)

    def edge(self) -> dict[str, Any]:
        status, answer = call(f"{self.cloud.url}/_tap/runtime/edge")
        assert status == 200, answer
        return dict(answer)

    def target_states(self) -> list[str]:
        described = self.cloud.client("elbv2").describe_target_health(
            TargetGroupArn=self.group)["TargetHealthDescriptions"]
        return [item["TargetHealth"]["State"] for item in described]

    def update_distribution(self, change: Callable[[dict[str, Any]], None]) -> None:
        cloudfront = self.cloud.client("cloudfront")
        current = cloudfront.get_distribution_config(Id=self.distribution)
        config = current["DistributionConfig"]
        change(config)
        cloudfront.update_distribution(Id=self.distribution, IfMatch=current["ETag"],
                                       DistributionConfig=config)


def listener_rules(elbv2: Any, listener: str, group: str, mirror_group: str) -> None:
    """Verified requests: /mirror*, /static/* and /custom/* to the mirror, the rest to the
    service."""
    verified = {"Field": "http-header", "HttpHeaderConfig": {
        "HttpHeaderName": VERIFY[0], "Values": [VERIFY[1]]}}
    elbv2.create_rule(ListenerArn=listener, Priority=10, Conditions=[
        verified, {"Field": "path-pattern", "PathPatternConfig": {
            "Values": ["/mirror*", "/static/*", "/custom/*"]}}],
        Actions=[{"Type": "forward", "TargetGroupArn": mirror_group}])
    elbv2.create_rule(ListenerArn=listener, Priority=20, Conditions=[verified],
                      Actions=[{"Type": "forward", "TargetGroupArn": group}])


def vpc_origin(cloud: Cloud, name: str, balancer: str, policy: str) -> str:
    return str(cloud.client("cloudfront").create_vpc_origin(VpcOriginEndpointConfig={
        "Name": name, "Arn": balancer, "HTTPPort": 80, "HTTPSPort": 443,
        "OriginProtocolPolicy": policy,
        "OriginSslProtocols": {"Quantity": 1, "Items": ["TLSv1.2"]}})["VpcOrigin"]["Id"])


def distribution_config(dns: str, origin_id: str) -> dict[str, Any]:
    """The stack's shape (lib/edge.py): a dynamic default behaviour, a cached /static/*;
    and /custom/* to a custom origin (the load balancer by its name) with the viewer's Host."""
    verified = {"Quantity": 1, "Items": [{"HeaderName": VERIFY[0], "HeaderValue": VERIFY[1]}]}
    return {
        "CallerReference": "edge-life", "Comment": "edge life", "Enabled": True,
        "Origins": {"Quantity": 2, "Items": [{
            "Id": "alb", "DomainName": dns, "CustomHeaders": verified,
            "VpcOriginConfig": {"VpcOriginId": origin_id}}, {
            "Id": "by-name", "DomainName": dns, "CustomHeaders": verified,
            "CustomOriginConfig": {"HTTPPort": 80, "HTTPSPort": 443,
                                   "OriginProtocolPolicy": "http-only"}}]},
        "DefaultCacheBehavior": {
            "TargetOriginId": "alb", "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": len(ALL_METHODS), "Items": ALL_METHODS},
            "CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER_EXCEPT_HOST,
            "ResponseHeadersPolicyId": SECURITY_HEADERS},
        "CacheBehaviors": {"Quantity": 2, "Items": [{
            "PathPattern": "custom/*", "TargetOriginId": "by-name",
            "ViewerProtocolPolicy": "https-only",
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
            "CachePolicyId": CACHING_DISABLED, "OriginRequestPolicyId": ALL_VIEWER}, {
            "PathPattern": "/static/*", "TargetOriginId": "alb",
            "ViewerProtocolPolicy": "redirect-to-https",
            "AllowedMethods": {"Quantity": 2, "Items": ["GET", "HEAD"]},
            "CachePolicyId": CACHING_OPTIMIZED}]}}


@pytest.fixture(scope="module")
def site(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Site]:
    directory = tmp_path_factory.mktemp("edge")
    mirror = Mirror()
    threading.Thread(target=mirror.serve_forever, daemon=True).start()
    with socket.create_server(HELD), runtime_emulator(directory) as url:
        cloud = Cloud(url)
        ec2, elbv2 = cloud.client("ec2"), cloud.client("elbv2")
        gateway = ec2.create_internet_gateway()["InternetGateway"]["InternetGatewayId"]
        ec2.attach_internet_gateway(InternetGatewayId=gateway, VpcId=cloud.vpc)
        second = ec2.create_subnet(VpcId=cloud.vpc, CidrBlock="10.40.2.0/24",
                                   AvailabilityZone="us-east-1b")["Subnet"]["SubnetId"]
        balancer = elbv2.create_load_balancer(
            Name="edge-alb", Subnets=[cloud.subnet, second], Scheme="internal",
            SecurityGroups=[cloud.security_group])["LoadBalancers"][0]
        elbv2.describe_load_balancers()  # moto makes it active when it is described
        group = elbv2.create_target_group(
            Name="edge-web", Protocol="HTTP", Port=8080, VpcId=cloud.vpc, TargetType="ip",
            HealthCheckPath="/healthz", HealthCheckIntervalSeconds=5, HealthCheckTimeoutSeconds=2,
            HealthyThresholdCount=2, UnhealthyThresholdCount=2)["TargetGroups"][0]["TargetGroupArn"]
        elbv2.modify_target_group_attributes(TargetGroupArn=group, Attributes=[
            {"Key": "deregistration_delay.timeout_seconds", "Value": "2"}])
        mirror_group = elbv2.create_target_group(
            Name="edge-mirror", Protocol="HTTP", Port=MIRROR[1], VpcId=cloud.vpc,
            TargetType="ip")["TargetGroups"][0]["TargetGroupArn"]
        elbv2.register_targets(TargetGroupArn=mirror_group,
                               Targets=[{"Id": MIRROR[0], "Port": MIRROR[1]}])
        listener = elbv2.create_listener(LoadBalancerArn=balancer["LoadBalancerArn"],
                                         Protocol="HTTP", Port=80,
                                         DefaultActions=[FORBIDDEN])["Listeners"][0]["ListenerArn"]
        listener_rules(elbv2, listener, group, mirror_group)
        cloud.client("ecs").create_service(
            cluster=cloud.cluster, serviceName="web", desiredCount=1, launchType="FARGATE",
            taskDefinition=cloud.task_definition("web", cloud.echo_image(),
                                                 environment={"REVISION": "1"}),
            networkConfiguration=cloud.network, loadBalancers=[
                {"targetGroupArn": group, "containerName": "web", "containerPort": 8080}])
        distribution = cloud.client("cloudfront").create_distribution(
            DistributionConfig=distribution_config(balancer["DNSName"], vpc_origin(
                cloud, "edge-http", balancer["LoadBalancerArn"], "http-only"))
        )["Distribution"]
        life = Site(cloud, directory / "runtime", balancer["LoadBalancerArn"],
                    balancer["DNSName"], listener, group, mirror_group, distribution["Id"],
                    distribution["DomainName"], mirror, host=distribution["DomainName"])
        wait_for(life.target_states, 60, "the service's task to be a healthy target",
                 until=lambda states: states == ["healthy"])
        yield life
    mirror.shutdown()
    mirror.server_close()
    # The emulator has stopped: nothing listens at the site any more.
    with pytest.raises(ConnectionRefusedError):
        socket.create_connection(("127.0.5.1", 443), timeout=2).close()


def test_the_edge_lists_the_distribution_and_the_load_balancer(site: Site) -> None:
    edge = site.edge()
    assert edge["caBundle"] == str(site.runtime / "tls" / "ca.pem")
    assert edge["hostsFile"] == str(site.runtime / "hosts")
    assert edge["distributions"] == [{
        "id": site.distribution, "domainName": site.domain, "aliases": [],
        "arn": f"arn:aws:cloudfront::123456789012:distribution/{site.distribution}",
        "address": "127.0.5.1", "ports": {"http": 80, "https": 443}, "serving": [80, 443],
        "errors": {}}]
    assert edge["loadBalancers"] == [{
        "arn": site.balancer, "name": "edge-alb", "dnsName": site.dns, "address": "127.0.4.2",
        "listeners": [{"port": 80, "protocol": "HTTP", "serving": True, "error": None}]}]
    hosts = (site.runtime / "hosts").read_text(encoding="utf-8").splitlines()
    assert f"127.0.5.1 {site.domain}" in hosts and f"127.0.4.2 {site.dns}" in hosts


def test_the_site_answers_from_the_task_through_the_distribution(site: Site) -> None:
    (task,) = [task for task in site.cloud.tasks().values() if task["lastStatus"] == "RUNNING"]
    answer = site.get(f"https://{site.domain}/")
    assert answer.status == 200, answer.body
    assert json.loads(answer.body) == {"revision": "1", "address": task["address"]}
    assert answer.header("X-Cache") == "Miss from cloudfront"
    assert re.fullmatch(r"1\.1 [0-9a-f]{32}\.cloudfront\.net \(CloudFront\)",
                        answer.header("Via") or "")
    assert {name.lower(): value for name, value in answer.headers
            if name.lower() in SECURITY} == SECURITY
    head = site.get(f"https://{site.domain}/mirror/head", method="HEAD")
    declared = len(json.dumps(site.mirror.seen[-1]).encode())
    assert (head.status, head.body, head.header("Content-Length")) == (200, b"", str(declared))


def test_the_origin_gets_what_cloudfront_and_the_load_balancer_add(site: Site) -> None:
    answer = site.get(f"https://{site.domain}/mirror/a?b=1&c=2", ("X-Viewer", "v"),
                      ("X-Origin-Verify", "forged"), ("X-Forwarded-For", "203.0.113.9"))
    assert answer.status == 200, answer.body
    seen = json.loads(answer.body)
    headers = {name.lower(): value for name, value in seen["headers"]}
    assert (seen["method"], seen["target"]) == ("GET", "/mirror/a?b=1&c=2")
    assert [name.lower() for name, _ in seen["headers"]].count("x-origin-verify") == 1
    assert {key: headers[key] for key in ("host", "x-origin-verify", "x-viewer",
                                          "x-forwarded-for", "x-forwarded-proto",
                                          "x-forwarded-port", "user-agent")} == {
        "host": site.dns, "x-origin-verify": SECRET, "x-viewer": "v",
        "x-forwarded-for": "203.0.113.9, 127.0.0.1, 127.0.5.1", "x-forwarded-proto": "http",
        "x-forwarded-port": "80", "user-agent": "tap-emulator-viewer"}
    assert (headers["via"], headers["x-amz-cf-id"]) == (answer.header("Via"),
                                                        answer.header("X-Amz-Cf-Id"))
    assert re.fullmatch(r"Root=1-[0-9a-f]{8}-[0-9a-f]{24}", headers["x-amzn-trace-id"])
    # /static/* is CachingOptimized without an origin request policy: no viewer header, no
    # query string, the origin's own name as Host.
    static = json.loads(site.get(f"https://{site.domain}/static/site.css?v=2",
                                 ("X-Viewer", "v")).body)
    static_headers = {name.lower(): value for name, value in static["headers"]}
    assert static["target"] == "/static/site.css"
    assert (static_headers["host"], static_headers["user-agent"]) == (site.dns,
                                                                      "Amazon CloudFront")
    assert "x-viewer" not in static_headers
    # /custom/* goes to the load balancer by its name (the hosts file), with the viewer's Host.
    custom = json.loads(site.get(f"https://{site.domain}/custom/page?p=1", ("X-Viewer", "v")).body)
    custom_headers = {name.lower(): value for name, value in custom["headers"]}
    assert (custom["target"], custom_headers["host"], custom_headers["x-viewer"],
            custom_headers["x-origin-verify"]) == ("/custom/page?p=1", site.domain, "v", SECRET)
    assert site.get(f"http://{site.domain}/custom/page").status == 403  # https-only
    posted = json.loads(site.get(f"https://{site.domain}/mirror/post", method="POST",
                                 body=b'{"a": 1}').body)
    assert (posted["method"], posted["body"]) == ("POST", '{"a": 1}')


def test_the_load_balancer_answers_403_without_the_origin_header(site: Site) -> None:
    direct = site.get(f"http://{site.dns}/")
    assert (direct.status, direct.body, direct.header("Server"),
            direct.header("Content-Type")) == (403, b"Forbidden", "awselb/2.0", "text/plain")
    assert site.get(f"http://{site.dns}/", ("X-Origin-Verify", "guess")).status == 403
    # Header names and values are compared without regard to case, as the ELB guide says.
    verified = site.get(f"http://{site.dns}/", ("x-origin-verify", SECRET.upper()))
    assert (verified.status, json.loads(verified.body)["revision"]) == (200, "1")


def test_an_http_viewer_is_redirected_and_a_method_outside_the_behaviour_refused(
        site: Site) -> None:
    redirected = site.get(f"http://{site.domain}/path?q=1")
    assert (redirected.status, redirected.header("Location"), redirected.header("Server")) == (
        301, f"https://{site.domain}/path?q=1", "CloudFront")
    posted = site.get(f"https://{site.domain}/static/site.css", method="POST", body=b"{}")
    assert (posted.status, posted.header("X-Cache")) == (403, "Error from cloudfront")
    assert b"not configured to allow the HTTP request method" in posted.body
    unknown = fetch(f"https://{site.domain}/", runtime_dir=site.runtime,
                    headers=[("Host", "unknown.example.com")])
    assert unknown.status == 403 and b"Bad request." in unknown.body


def test_a_web_acl_that_blocks_by_default_answers_403(site: Site) -> None:
    acl = site.cloud.client("wafv2").create_web_acl(
        Name="edge-block", Scope="CLOUDFRONT", DefaultAction={"Block": {}},
        VisibilityConfig={"SampledRequestsEnabled": False, "CloudWatchMetricsEnabled": False,
                          "MetricName": "edge-block"})["Summary"]["ARN"]
    site.update_distribution(lambda config: config.update(WebACLId=acl))
    blocked = site.get(f"https://{site.domain}/")
    assert (blocked.status, blocked.header("Server")) == (403, "CloudFront")
    assert b"Request blocked." in blocked.body
    site.update_distribution(lambda config: config.update(WebACLId=""))
    assert site.get(f"https://{site.domain}/").status == 200


def test_the_distribution_moves_to_an_https_listener_answering_throughout(site: Site) -> None:
    cloud, elbv2 = site.cloud, site.cloud.client("elbv2")
    certificate = cloud.client("acm").request_certificate(
        DomainName=ALIAS, ValidationMethod="DNS")["CertificateArn"]
    site.https_listener = elbv2.create_listener(
        LoadBalancerArn=site.balancer, Protocol="HTTPS", Port=443,
        SslPolicy="ELBSecurityPolicy-TLS13-1-2-2021-06",
        Certificates=[{"CertificateArn": certificate}],
        DefaultActions=[FORBIDDEN])["Listeners"][0]["ListenerArn"]
    listener_rules(elbv2, site.https_listener, site.group, site.mirror_group)
    # The load balancer presents what its ACM certificate names, not its own DNS name.
    context = ssl.create_default_context(cafile=str(site.runtime / "tls" / "ca.pem"))
    with socket.create_connection(("127.0.4.2", 443), timeout=5) as raw, \
            context.wrap_socket(raw, server_hostname=ALIAS) as secured:
        names = [value for _, value in secured.getpeercert()["subjectAltName"]]
    assert names == [ALIAS]

    def alias(config: dict[str, Any]) -> None:  # the viewer's name, as DOMAIN_NAMES gives
        config["Aliases"] = {"Quantity": 1, "Items": [ALIAS]}
        config["ViewerCertificate"] = {"ACMCertificateArn": certificate,
                                       "SSLSupportMethod": "sni-only",
                                       "MinimumProtocolVersion": "TLSv1.2_2021"}
    site.update_distribution(alias)
    site.host = ALIAS
    assert site.get(f"https://{ALIAS}/").status == 200
    statuses: list[int] = []
    watching = threading.Event()

    def watch() -> None:
        while not watching.is_set():
            statuses.append(site.get(f"https://{ALIAS}/").status)
            time.sleep(0.05)

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        origin = vpc_origin(cloud, "edge-https", site.balancer, "https-only")

        def use(config: dict[str, Any]) -> None:  # as lib/edge.py does for an HTTPS origin
            config["Origins"]["Items"][0]["VpcOriginConfig"]["VpcOriginId"] = origin
            config["DefaultCacheBehavior"]["OriginRequestPolicyId"] = ALL_VIEWER
        site.update_distribution(use)
        seen = json.loads(site.get(f"https://{ALIAS}/mirror/tls").body)
        time.sleep(0.5)
    finally:
        watching.set()
        watcher.join()
    headers = {name.lower(): value for name, value in seen["headers"]}
    assert (headers["host"], headers["x-forwarded-proto"], headers["x-forwarded-port"]) == (
        ALIAS, "https", "443")
    assert len(statuses) > 3 and set(statuses) == {200}, statuses
    # By the distribution's own name the Host it sends is one the load balancer's certificate
    # does not cover, nor is the origin's name: CloudFront cannot verify the origin, as in AWS.
    unverified = site.get(f"https://{site.domain}/")
    assert (unverified.status, unverified.header("X-Cache")) == (502, "Error from cloudfront")


def test_port_80_answers_with_its_redirects(site: Site) -> None:
    elbv2 = site.cloud.client("elbv2")
    elbv2.modify_listener(ListenerArn=site.http_listener, DefaultActions=[{
        "Type": "redirect", "RedirectConfig": {"Protocol": "HTTPS", "Port": "443",
                                               "StatusCode": "HTTP_301"}}])
    https = site.get(f"http://{site.dns}/a/b?c=d")
    assert (https.status, https.header("Location"), https.header("Server")) == (
        301, f"https://{site.dns}:443/a/b?c=d", "awselb/2.0")
    elbv2.create_rule(ListenerArn=site.http_listener, Priority=5, Conditions=[
        {"Field": "host-header", "HostHeaderConfig": {"Values": ["old.example.*"]}}],
        Actions=[{"Type": "redirect", "RedirectConfig": {
            "Host": "new.example.com", "Path": "/moved/#{path}", "Query": "from=#{port}&#{query}",
            "StatusCode": "HTTP_302"}}])
    moved = fetch(f"http://{site.dns}/a?x=1", runtime_dir=site.runtime,
                  headers=[("Host", "OLD.example.org")])
    assert (moved.status, moved.header("Location")) == (
        302, "http://new.example.com:80/moved/a?from=80&x=1")
    assert site.get(f"https://{site.host}/").status == 200  # CloudFront uses 443 now


def test_no_healthy_target_answers_503(site: Site) -> None:
    site.cloud.client("ecs").update_service(cluster=site.cloud.cluster, service="web",
                                            desiredCount=0)
    wait_for(site.target_states, 30, "the target to stop being healthy",
             until=lambda states: "healthy" not in states)
    draining = site.get(f"https://{site.host}/")
    assert (draining.status, draining.header("Server"), draining.header("X-Cache")) == (
        503, "awselb/2.0", "Error from cloudfront")
    assert b"<h1>503 Service Temporarily Unavailable</h1>" in draining.body
    wait_for(site.target_states, 30, "the target to be deregistered",
             until=lambda states: states == [])
    assert site.get(f"https://{site.host}/").status == 503


def test_a_deleted_listener_is_a_502_at_the_edge(site: Site) -> None:
    site.cloud.client("elbv2").delete_listener(ListenerArn=site.https_listener)
    answer = site.get(f"https://{site.host}/mirror/after")
    assert (answer.status, answer.header("Server"), answer.header("X-Cache")) == (
        502, "CloudFront", "Error from cloudfront")
    assert b"CloudFront wasn't able to connect to the origin." in answer.body
    (balancer,) = site.edge()["loadBalancers"]
    assert [listener["port"] for listener in balancer["listeners"]] == [80]
