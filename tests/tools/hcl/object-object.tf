# Recorded 2026-12-05: cdktf 0.20.12 with cdktf-cdktf-provider-aws 19.50.0, a web ACL rule whose
# statement is passed as a plain object (the bindings skip its type), SYNTH_HCL_OUTPUT=true:
# the rendering terraform-cdk#3630 reports (line 37).
terraform {
required_providers {
  aws = {
version = "5.84.0"
source = "aws"
}
}
backend "local" {
path = "/tmp/hcl-3630/terraform.waf.tfstate"
}


}

provider "aws" {
region = "us-east-1"
}
resource "aws_wafv2_web_acl" "acl" {
name = "typed-rules"
scope = "CLOUDFRONT"
default_action {
allow {

}
}
rule {
name = "aws-common"
priority = 0
override_action {
none {

}
}
statement = [object Object]
visibility_config {
cloudwatch_metrics_enabled = true
metric_name = "aws-common"
sampled_requests_enabled = true
}
}
visibility_config {
cloudwatch_metrics_enabled = true
metric_name = "acl"
sampled_requests_enabled = true
}
}