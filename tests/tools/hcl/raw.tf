# cdktf 0.21.0's raw HCL (the app's output with SYNTH_HCL_OUTPUT=true, before the CLI formats it),
# recorded 2026-12-05: blocks of the labels dev, pr4892-byon (the data source) and dev-app (the
# release gate). tests/tools/hcl/synth.json holds the same blocks from the JSON synth.
terraform {
required_providers {
  aws = {
version = "5.100.0"
source = "aws"
}
}
backend "local" {
path = "terraform.TapStackdev.tfstate"
}

  0 = "required_version"
}
resource "aws_kms_key" "network_logs-key_D7FE71A1" {
deletion_window_in_days = 14
description = "CloudWatch log groups of tap-dev"
enable_key_rotation = true
policy = "{"Version": "2012-10-17", "Statement": [{"Sid": "AccountAdministration", "Effect": "Allow", "Principal": {"AWS": "arn:aws:iam::${data.aws_caller_identity.caller.account_id}:root"}, "Action": ["kms:*"], "Resource": "*"}, {"Sid": "CloudWatchLogs", "Effect": "Allow", "Principal": {"Service": "logs.us-east-1.amazonaws.com"}, "Action": ["kms:Encrypt*", "kms:Decrypt*", "kms:ReEncrypt*", "kms:GenerateDataKey*", "kms:Describe*"], "Resource": "*", "Condition": {"ArnLike": {"kms:EncryptionContext:aws:logs:arn": "arn:aws:logs:us-east-1:${data.aws_caller_identity.caller.account_id}:log-group:*"}}}]}"
}
resource "aws_eip" "network_nat-eip-0_31DC63CB" {
domain = "vpc"
tags = {
Name = "tap-dev-nat-0"
}
depends_on = [
"aws_internet_gateway.network_igw_5DF1EDA1",
]
}
resource "aws_secretsmanager_secret_version" "data_cache-secret-value_14BD8CE9" {
secret_id = "${aws_secretsmanager_secret.data_cache-secret_21A8E295.id}"
secret_string = "${jsonencode({"engine" = "valkey", "host" = aws_elasticache_serverless_cache.data_cache_9118DB68.endpoint[0].address, "port" = aws_elasticache_serverless_cache.data_cache_9118DB68.endpoint[0].port, "reader_host" = aws_elasticache_serverless_cache.data_cache_9118DB68.reader_endpoint[0].address, "reader_port" = aws_elasticache_serverless_cache.data_cache_9118DB68.reader_endpoint[0].port, "tls" = true, "url" = "rediss://${aws_elasticache_serverless_cache.data_cache_9118DB68.endpoint[0].address}:${aws_elasticache_serverless_cache.data_cache_9118DB68.endpoint[0].port}"})}"
}
resource "aws_secretsmanager_secret_version" "lb_origin-verify-version_3C011C3C" {
secret_id = "${aws_secretsmanager_secret.lb_origin-verify_648D9162.id}"
secret_string = "${data.aws_secretsmanager_random_password.lb_origin-verify-value_CBE52BF6.random_password}"
lifecycle {
  ignore_changes = [
"secret_string",
]
}
}
resource "terraform_data" "edge_vpc-origin-leftovers_9154C560" {
input = {
vpc_id = "${aws_vpc.network_vpc_4E8F0223.id}"
region = "us-east-1"
subnets = "${join(",", [aws_subnet.network_private-0_A0649C48.id, aws_subnet.network_private-1_4188AF2B.id, aws_subnet.network_private-2_96169D1F.id])}"
}
provisioner "local-exec" {
command = ""$${TAP_PYTHON:-python3}" "assets/edge_leftovers-runner_C4D6D4C2/9CAF43F11D8FBEB8019DBFBEE1807078/vpc_origin_leftovers.py""
environment = {
TAP_VPC_ID = "${self.input.vpc_id}"
TAP_REGION = "${self.input.region}"
}
when = "destroy"
}
}
resource "aws_cloudfront_vpc_origin" "edge_vpc-origin_DD024921" {
timeouts {
create = "30m"
delete = "30m"
update = "30m"
}
vpc_origin_endpoint_config {
arn = "${aws_lb.lb_alb_3A88C95E.arn}"
http_port = 80
https_port = 443
name = "tap-dev-alb"
origin_protocol_policy = "http-only"
origin_ssl_protocols {
items = [
"TLSv1.2"
]
quantity = 1
}
}
depends_on = [
"terraform_data.edge_vpc-origin-leftovers_9154C560",
]
provider = "aws.global"
lifecycle {
  create_before_destroy = true
  replace_triggered_by = [
"terraform_data.edge_vpc-origin-endpoint_53A547C0",
]
}
}
resource "aws_wafv2_web_acl" "edge_web-acl_CF2D5BA8" {
description = "CloudFront web ACL of tap-dev"
name = "tap-dev-edge"
rule_json = "[{\"Name\": \"aws-ip-reputation\", \"Priority\": 0, \"OverrideAction\": {\"None\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesAmazonIpReputationList\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-ip-reputation\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"aws-anonymous-ip\", \"Priority\": 1, \"OverrideAction\": {\"Count\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesAnonymousIpList\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-anonymous-ip\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"rate-limit-per-ip\", \"Priority\": 2, \"Action\": {\"Block\": {}}, \"Statement\": {\"RateBasedStatement\": {\"Limit\": 2000, \"AggregateKeyType\": \"IP\", \"EvaluationWindowSec\": 300}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"rate-limit-per-ip\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"aws-common\", \"Priority\": 3, \"OverrideAction\": {\"None\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesCommonRuleSet\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-common\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"aws-known-bad-inputs\", \"Priority\": 4, \"OverrideAction\": {\"None\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesKnownBadInputsRuleSet\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-known-bad-inputs\", \"SampledRequestsEnabled\": true}}, {\"Name\": \"aws-sqli\", \"Priority\": 5, \"OverrideAction\": {\"None\": {}}, \"Statement\": {\"ManagedRuleGroupStatement\": {\"Name\": \"AWSManagedRulesSQLiRuleSet\", \"VendorName\": \"AWS\"}}, \"VisibilityConfig\": {\"CloudWatchMetricsEnabled\": true, \"MetricName\": \"aws-sqli\", \"SampledRequestsEnabled\": true}}]"
scope = "CLOUDFRONT"
default_action {
allow {

}
}
visibility_config {
cloudwatch_metrics_enabled = true
metric_name = "tap-dev-edge"
sampled_requests_enabled = true
}
provider = "aws.global"
}
data "aws_subnet" "network_public-0_A4E682E0" {
id = "subnet-0a00000000000000a"
lifecycle {
  postcondition = [
{
condition = "${self.vpc_id == "vpc-0a1b2c3d4e5f60718"}"
error_message = "subnet-0a00000000000000a (PUBLIC_SUBNET_IDS) is in ${self.vpc_id}, not in VPC_ID vpc-0a1b2c3d4e5f60718."
},
]
}
}
resource "terraform_data" "release_gate_43C0B32B" {
triggers_replace = {
service = "${aws_ecs_task_definition.app_task_D962A8DF.arn}"
release = "${aws_ecs_task_definition.release_task_547B5CFF.arn}"
secrets = "${join(",", [aws_secretsmanager_secret.app-secrets_APP_SIGNING_KEY_D4EF07B4.arn])}"
}
provisioner "local-exec" {
command = ""$${TAP_PYTHON:-python3}" "assets/release_runner_D59057A8/8918BCD6C8BD0F29B35EC10A743CD9E0/one_off.py" release"
environment = {
TAP_REGION = "us-east-1"
TAP_CLUSTER = "${aws_ecs_cluster.app_cluster_676669F2.arn}"
TAP_TASK_DEFINITION = "${aws_ecs_task_definition.release_task_547B5CFF.arn}"
TAP_SUBNETS = "${join(",", [aws_subnet.network_private-0_A0649C48.id, aws_subnet.network_private-1_4188AF2B.id, aws_subnet.network_private-2_96169D1F.id])}"
TAP_SECURITY_GROUPS = "${aws_security_group.network_task-sg_C9CB6DD5.id}"
TAP_ASSIGN_PUBLIC_IP = "DISABLED"
TAP_TIMEOUT_SECONDS = 600
TAP_SECRETS = "${join(",", ["APP_SIGNING_KEY=${aws_secretsmanager_secret.app-secrets_APP_SIGNING_KEY_D4EF07B4.arn}"])}"
TAP_LOG_GROUP = "${aws_cloudwatch_log_group.app_task-logs_95CCB7DA.name}"
TAP_LOG_STREAM_PREFIX = "release"
TAP_CONTAINER = "web"
}
}
}
