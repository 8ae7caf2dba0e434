"""Integration suite: checks a deployed environment's live resources with boto3."""
