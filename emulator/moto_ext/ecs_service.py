"""ECS service settings for moto: CreateService and UpdateService keep, and
DescribeServices returns, ``capacityProviderStrategy``, ``deploymentConfiguration``
(with the deployment circuit breaker), ``enableExecuteCommand``,
``healthCheckGracePeriodSeconds``, ``enableECSManagedTags`` and
``availabilityZoneRebalancing``.

moto 5.2.5 drops them, so the provider would read back a service without its capacity
provider strategy (and plan to replace it) and the checks of those settings could not
run. Defaults follow AWS: 200 / 100 percent, circuit breaker off, ECS Exec off.
"""
from __future__ import annotations

# The handlers below become methods of moto's response class: they read the request
# with moto's own helpers (_get_param, _get_params), as moto's handlers do.
# pylint: disable=protected-access

import copy
from typing import Any

from moto.core.responses import ActionResult
from moto.ecs.responses import EC2ContainerServiceResponse

NAME = "ecs-service-settings"
DEFAULT_DEPLOYMENT_CONFIGURATION = {
    "deploymentCircuitBreaker": {"enable": False, "rollback": False},
    "maximumPercent": 200,
    "minimumHealthyPercent": 100,
}
# request parameter -> attribute the response serializer reads (botocore.xform_name)
_FIELDS = {
    "capacityProviderStrategy": "capacity_provider_strategy",
    "deploymentConfiguration": "deployment_configuration",
    "enableExecuteCommand": "enable_execute_command",
    "healthCheckGracePeriodSeconds": "health_check_grace_period_seconds",
    "enableECSManagedTags": "enable_ecs_managed_tags",
    "availabilityZoneRebalancing": "availability_zone_rebalancing",
}


def apply_settings(service: Any, params: dict[str, Any], creating: bool) -> None:
    """Copy the settings in ``params`` onto the service; on create, fill AWS's defaults."""
    if creating:
        service.deployment_configuration = copy.deepcopy(DEFAULT_DEPLOYMENT_CONFIGURATION)
        service.enable_execute_command = False
        service.enable_ecs_managed_tags = False
        service.capacity_provider_strategy = []
        service.availability_zone_rebalancing = None
    for parameter, attribute in _FIELDS.items():
        if params.get(parameter) is None:
            continue
        value = params[parameter]
        if parameter == "deploymentConfiguration":
            value = {**service.deployment_configuration, **value}
        setattr(service, attribute, value)


def _service(response: EC2ContainerServiceResponse, name: str) -> Any:
    cluster = response._get_param("cluster", "default")
    services, _ = response.ecs_backend.describe_services(cluster, [name])
    return services[0]


def install() -> str:
    """Wrap CreateService and UpdateService so they keep the settings."""
    create = EC2ContainerServiceResponse.create_service
    update = EC2ContainerServiceResponse.update_service
    if getattr(create, "tap_extended", False):
        return NAME

    def create_service(self: EC2ContainerServiceResponse) -> ActionResult:
        result = create(self)
        apply_settings(_service(self, self._get_param("serviceName")), self._get_params(),
                       creating=True)
        return result

    def update_service(self: EC2ContainerServiceResponse) -> ActionResult:
        result = update(self)
        apply_settings(_service(self, self._get_param("service")), self._get_params(),
                       creating=False)
        return result

    create_service.tap_extended = True  # type: ignore[attr-defined]
    EC2ContainerServiceResponse.create_service = create_service  # type: ignore[method-assign]
    EC2ContainerServiceResponse.update_service = update_service  # type: ignore[method-assign]
    return NAME
