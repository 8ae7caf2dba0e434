# Recorded 2026-12-05: the stack's web ACL as `make hcl` writes it for dev (cdktf 0.21.0, repaired
# and formatted): its rules are one rule_json string, so no statement block is rendered.
resource "aws_wafv2_web_acl" "edge_web-acl_CF2D5BA8" {
  description = "CloudFront web ACL of tap-dev"
  name        = "tap-dev-edge"
  rule_json   = "[{\"Name\": \"aws-ip-reputation\", \"Priority\": 0, \"OverrideAction\": {\"None\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesAmazonIpReputationList\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-ip-reputation\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"aws-anonymous-ip\", \"Priority\": 1, \"OverrideAction\": {\"Count\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesAnonymousIpList\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-anonymous-ip\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"rate-limit-per-ip\", \"Priority\": 2, \"Action\": {\"Block\": {}}, \"Statement\": {\"RateBasedStatement\": {\"Limit\": 2000, \"AggregateKeyType\": \"IP\", \"EvaluationWindowSec\": 300}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"rate-limit-per-ip\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"aws-common\", \"Priority\": 3, \"OverrideAction\": {\"None\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesCommonRuleSet\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-common\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"aws-known-bad-inputs\", \"Priority\": 4, \"OverrideAction\": {\"None\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesKnownBadInputsRuleSet\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-known-bad-inputs\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"aws-sqli\", \"Priority\": 5, \"OverrideAction\": {\"None\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesSQLiRuleSet\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-sqli\", \"SampledRequestsEnabled\": true}}]"
  scope       = "CLOUDFRONT"
  default_action {
    allow {

    }
  }
  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "tap-dev-edge"
    sampled_requests_enabled   = true
  }
  provider = aws.global
}
