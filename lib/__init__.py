"""The TAP web platform stack: CDKTF constructs for one environment per Terraform state.

Importing this package installs the fast loader for the AWS provider bindings
(see ``lib.bindings``) before any construct module imports a resource class.
"""
from lib import bindings

BINDINGS_MODE = bindings.install()
