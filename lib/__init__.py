"""The TAP web platform stack: CDKTF constructs for one environment per Terraform state.

Importing this package installs the fast loaders for the AWS provider bindings (see
``lib.bindings``) before any construct module imports a resource class: the JavaScript
one first, since the normal Python import starts the jsii kernel.
"""
from lib import bindings

PROVIDER_JS_MODE = bindings.install_js()
BINDINGS_MODE = bindings.install()
