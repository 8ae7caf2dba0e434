"""The TAP web platform stack: CDKTF constructs for one environment per Terraform state.

Importing this package does nothing else: ``lib.config``, ``lib.regions``,
``lib.resource_types`` and the other registries import without jsii, for the tools. Whatever
builds a stack calls ``lib.bindings.load()`` first (``main.py``, the unit tests' conftest,
``scripts/synth_profiles.py``...): the fast loaders of the AWS provider bindings, which must run
before the jsii kernel starts.
"""
