"""The CloudFront web ACL and its logging: the pieces the edge (lib/edge.py) and the shared stack
(lib/shared_stack.py) both make, in the scope each passes.

- ``make_web_acl(scope, ...)`` (id ``web-acl``): a WAFv2 web ACL of scope ``CLOUDFRONT`` (it must
  be created in us-east-1: the given provider), default action allow, the rules of
  lib/waf_rules.py as the API's JSON, a CloudWatch metric named like the ACL (the alarms'
  ``WebACL`` dimension) and sampled requests;
- ``waf_logging(scope, ...)`` (id ``waf-logging``): WAF logs to an S3 bucket, whose policy lets
  log delivery write them (``waf_delivery_statements``), with the ``authorization`` and
  origin-verify headers redacted. Not to CloudWatch Logs: that needs either a CloudWatch Logs
  resource policy per web ACL (10 per region, not adjustable: a hard ceiling on a fleet) or
  WAF's own ``AWSWAF-LOGS`` account policy, which grows per log group up to its 5,120-character
  limit (docs/decisions/waf-logs-in-s3.md).
"""
from __future__ import annotations

import json
from typing import Any

from cdktf import TerraformProvider
from cdktf_cdktf_provider_aws.wafv2_web_acl import (
    Wafv2WebAcl,
    Wafv2WebAclDefaultAction,
    Wafv2WebAclVisibilityConfig,
)
from cdktf_cdktf_provider_aws.wafv2_web_acl_logging_configuration import (
    Wafv2WebAclLoggingConfiguration,
    Wafv2WebAclLoggingConfigurationRedactedFields,
    Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader,
)
from constructs import Construct

from lib.config import GLOBAL_REGION, ORIGIN_VERIFY_HEADER
from lib.log_bucket import LogBucket
from lib.naming import Names
from lib.policies import statement
from lib.waf_rules import web_acl_rules

# Header names in WAF redacted fields must be lowercase.
REDACTED_HEADERS = (ORIGIN_VERIFY_HEADER.lower(), "authorization")


def make_web_acl(scope: Construct, *, names: Names, provider: TerraformProvider,
                 rate_limit: int, anonymous_ip_count_only: bool) -> Wafv2WebAcl:
    """The CLOUDFRONT web ACL of ``names`` (see the module docstring)."""
    return Wafv2WebAcl(
        scope, "web-acl",
        name=names.web_acl,
        description=f"CloudFront web ACL of {names.prefix}",
        scope="CLOUDFRONT",
        default_action=Wafv2WebAclDefaultAction(allow={}),
        # The rules as the API's JSON, not `rule` blocks: the provider's schema for those
        # blocks (statements nested to many levels) cost a plan that changes the stack
        # ~16-20 s of Terraform CPU here (hashicorp/terraform-provider-aws#14062).
        # The price: the provider does not read rule_json back, so hand-made changes to
        # the rules are not planned away; the integration suite compares the live rules
        # with these (tests/integration/test_edge_live.py).
        rule_json=json.dumps(web_acl_rules(anonymous_ip_count_only, rate_limit)),
        visibility_config=Wafv2WebAclVisibilityConfig(
            cloudwatch_metrics_enabled=True, metric_name=names.web_acl,
            sampled_requests_enabled=True),
        provider=provider,
    )


def waf_logging(scope: Construct, *, web_acl: Wafv2WebAcl, logs: LogBucket,
                provider: TerraformProvider) -> Wafv2WebAclLoggingConfiguration:
    """WAF logs of ``web_acl`` to the bucket of ``logs``, once its policy admits them."""
    return Wafv2WebAclLoggingConfiguration(
        scope, "waf-logging",
        resource_arn=web_acl.arn,
        log_destination_configs=[logs.bucket.arn],
        redacted_fields=[
            Wafv2WebAclLoggingConfigurationRedactedFields(
                single_header=Wafv2WebAclLoggingConfigurationRedactedFieldsSingleHeader(
                    name=header))
            for header in REDACTED_HEADERS
        ],
        depends_on=[logs.policy],
        provider=provider,
    )


def waf_delivery_statements(bucket_arn: str, account: str) -> list[dict[str, Any]]:
    """What vended log delivery needs to write WAF logs into a bucket of this account:
    PutObject under AWSLogs/<account>/ with the bucket owner in full control, and the
    bucket ACL check, both only on behalf of this account's log deliveries."""
    condition = {"StringEquals": {"aws:SourceAccount": account},
                 "ArnLike": {"aws:SourceArn": f"arn:aws:logs:{GLOBAL_REGION}:{account}:*"}}
    writer = {"Service": "delivery.logs.amazonaws.com"}
    return [
        statement(sid="WafLogDeliveryWrite", principal=writer, actions=["s3:PutObject"],
                  resources=[f"{bucket_arn}/AWSLogs/{account}/*"],
                  condition={**condition, "StringEquals": {
                      **condition["StringEquals"], "s3:x-amz-acl": "bucket-owner-full-control"}}),
        statement(sid="WafLogDeliveryAclCheck", principal=writer, actions=["s3:GetBucketAcl"],
                  resources=[bucket_arn], condition=condition),
    ]
