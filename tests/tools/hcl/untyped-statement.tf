# Recorded 2026-12-05: cdktf 0.21.0's `cdktf synth --hcl` of the same web ACL (its CLI formats the
# file): #3630's fix writes the untyped statement as a map, which terraform validate refuses
# ("An argument named \"statement\" is not expected here"; the warning is line 38).
terraform {
  required_providers {
    aws = {
      version = "5.100.0"
      source  = "aws"
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
  name  = "typed-rules"
  scope = "CLOUDFRONT"
  default_action {
    allow {

    }
  }
  rule {
    name     = "aws-common"
    priority = 0
    override_action {
      none {

      }
    }

    # Warning: The following attribute is of an unexpected type. Either there's a problem with the provider
    # or CDKTF has chosen to skip generating a detailed type for this because it increases the size of the provider library significantly. 
    # Please check if this resource is included in our skip list: 
    # https://github.com/hashicorp/terraform-cdk/blob/1fb8588095a55d475dc4be28882ec4f42006ec8d/packages/%40cdktf/provider-generator/lib/get/generator/skipped-attributes.ts
    # and if not, please check with the provider authors to see if the provider schema is accurate.
    # 
    # We understand this is not ideal, so we suggest using JSON synthesis instead of HCL synthesis for this particular case.

    statement = {
      managed_rule_group_statement = {
        name        = "AWSManagedRulesCommonRuleSet"
        vendor_name = "AWS"
      }
    }

    visibility_config {
      cloudwatch_metrics_enabled = true
      metric_name                = "aws-common"
      sampled_requests_enabled   = true
    }
  }
  visibility_config {
    cloudwatch_metrics_enabled = true
    metric_name                = "acl"
    sampled_requests_enabled   = true
  }
}