"""Container image references, without jsii (the integration suite and tools read them too).

``resolve_image`` turns the ``ecr:<repository>[:tag][@digest]`` shorthand into this account's
ECR in the stack's region; ``ecr_repository_arn`` is the repository a private ECR image is
pulled from (the execution role's pull permission); ``is_nginx_alpine`` recognizes the
platform's default container (an official nginx Alpine image).
"""
from __future__ import annotations

import re

_ECR_IMAGE = re.compile(
    r"^(?P<account>\d{12})\.dkr\.ecr\.(?P<region>[a-z0-9-]+)\.amazonaws\.com/"
    r"(?P<repository>[a-z0-9._/-]+?)(:[\w.-]+)?(@sha256:[a-f0-9]{64})?$")
# The official nginx Alpine images (ECR Public gallery or Docker Hub): busybox wget for the
# container health check, and the only writable paths nginx needs are known.
_NGINX_ALPINE = re.compile(
    r"^(public\.ecr\.aws/nginx/nginx|(docker\.io/)?(library/)?nginx):[\w.-]*alpine[\w.-]*$")


ECR_SHORTHAND = "ecr:"


def resolve_image(reference: str, account_id: str, region: str) -> str:
    """The image to pull: ``ecr:<repository>[:tag][@digest]`` is this account's ECR in the
    stack's region (``account_id`` may be a token); any other reference is itself."""
    if not reference.startswith(ECR_SHORTHAND):
        return reference
    return f"{account_id}.dkr.ecr.{region}.amazonaws.com/{reference[len(ECR_SHORTHAND):]}"


def ecr_repository_arn(image: str, account_id: str = "", region: str = "") -> str | None:
    """The ARN of a private ECR repository image, or None for public registries (which
    need no pull permission). An ``ecr:`` reference is this account's, in ``region``."""
    if image.startswith(ECR_SHORTHAND):
        repository = re.split(r"[:@]", image[len(ECR_SHORTHAND):], maxsplit=1)[0]
        return f"arn:aws:ecr:{region}:{account_id}:repository/{repository}"
    match = _ECR_IMAGE.match(image)
    if match is None:
        return None
    return (f"arn:aws:ecr:{match['region']}:{match['account']}:"
            f"repository/{match['repository']}")


def is_nginx_alpine(image: str) -> bool:
    """Whether the image is an official nginx Alpine image (the default is one)."""
    return _NGINX_ALPINE.match(image) is not None
