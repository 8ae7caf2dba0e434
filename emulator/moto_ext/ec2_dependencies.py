"""EC2 for moto: a VPC, a subnet or a security group that something still depends on is
not deleted, and a deleted NAT gateway takes its network interface with it.

What AWS documents, and what moto 5.2.5 does instead:

- DeleteVpc: "You must detach or delete all gateways and resources that are associated
  with the VPC before you can delete it. For example, you must terminate all instances
  running in the VPC, delete all security groups associated with the VPC (except the
  default one), delete all route tables associated with the VPC (except the default
  one), and so on."
  (https://docs.aws.amazon.com/AWSEC2/latest/APIReference/API_DeleteVpc.html).
  moto refuses while a subnet, an attached VPN gateway or a second route table remains,
  never for a security group or an internet gateway. Here a non-default security group
  or an attached internet gateway refuses it too. A network interface is always in a
  subnet, and DeleteSubnet refuses while one is there (below), so moto's subnet check
  already holds the VPC while an interface remains.
- DeleteSubnet: "You must terminate all running instances in the subnet before you can
  delete the subnet" (API_DeleteSubnet.html); what holds a subnet is any network
  interface in it (an instance's, a NAT gateway's, a VPC endpoint's, CloudFront's for a
  VPC origin, an ECS task's). moto deletes the subnet anyway. Here an interface refuses.
- DeleteSecurityGroup: "If you attempt to delete a security group that is associated
  with an instance or network interface, is referenced by another security group in the
  same VPC, or has a VPC association, the operation fails with DependencyViolation"
  (API_DeleteSecurityGroup.html). moto deletes it anyway (its handler says "TODO this
  should raise an error"). Here a network interface in the group or a rule of another
  group that names it refuses; a group's rule that names the group itself does not.
- The refusals are ``DependencyViolation``, HTTP 400 (client error codes,
  https://docs.aws.amazon.com/AWSEC2/latest/APIReference/errors-overview.html: "The
  specified object has dependent resources ... Remove the dependencies first, then retry
  your request"), with the messages AWS returns: "The vpc 'vpc-...' has dependencies and
  cannot be deleted." (e.g. https://github.com/pulumi/pulumi-awsx/issues/905), "The subnet
  'subnet-...' has dependencies and cannot be deleted." and "resource sg-... has a
  dependent object" (both in https://github.com/aws/aws-cdk/issues/14456). The provider
  retries DependencyViolation on these deletes until its timeout, so a dependency that
  goes away on its own (a service's interface) delays a destroy, one that stays fails it.
- DeleteNatGateway: a NAT gateway's interface is requester-managed, and "when you delete
  the resource associated with a requester-managed network interface, the AWS service
  detaches the network interface and deletes it"
  (https://docs.aws.amazon.com/AWSEC2/latest/UserGuide/requester-managed-eni.html).
  moto marks the gateway deleted and keeps its interface (and the Elastic IP associated
  with it), which would now hold the subnet forever. Here the interface goes with the
  gateway and the address is disassociated (it stays allocated, as in AWS).
"""
from __future__ import annotations

from typing import Any, Iterator

from moto.ec2.exceptions import DependencyViolationError
from moto.ec2.models.nat_gateways import NatGatewayBackend
from moto.ec2.models.security_groups import SecurityGroup, SecurityGroupBackend
from moto.ec2.models.subnets import SubnetBackend
from moto.ec2.models.vpcs import VPCBackend

NAME = "ec2-dependencies"
VPC_IN_USE = "The vpc '{}' has dependencies and cannot be deleted."
SUBNET_IN_USE = "The subnet '{}' has dependencies and cannot be deleted."
GROUP_IN_USE = "resource {} has a dependent object"


def vpc_dependents(backend: Any, vpc_id: str) -> list[str]:
    """What moto does not check and keeps the VPC: its non-default security groups and
    the internet gateways attached to it (ids, sorted)."""
    groups = [group.id for group in backend.groups.get(vpc_id, {}).values()
              if not group.is_default]
    gateways = [gateway.id for gateway in backend.internet_gateways.values()
                if gateway.vpc is not None and gateway.vpc.id == vpc_id]
    return sorted(groups + gateways)


def subnet_interfaces(backend: Any, subnet_id: str) -> list[str]:
    """The network interfaces in the subnet (ids, sorted)."""
    return sorted(eni.id for eni in list(backend.enis.values()) if eni.subnet.id == subnet_id)


def _rules(group: SecurityGroup) -> Iterator[Any]:
    yield from group.ingress_rules
    yield from group.egress_rules


def group_interfaces(backend: Any, group_id: str) -> list[str]:
    """The network interfaces in the group (ids, sorted)."""
    return sorted(eni.id for eni in list(backend.enis.values())
                  if any(group.id == group_id for group in eni.group_set))


def group_referrers(backend: Any, group_id: str) -> list[str]:
    """The other groups with a rule that names the group (ids, sorted)."""
    return sorted({other.id for groups in list(backend.groups.values())
                   for other in list(groups.values()) if other.id != group_id
                   for rule in _rules(other) if rule.source_group.get("GroupId") == group_id})


def _group_to_delete(backend: Any, name: str | None, group_id: str | None) -> Any:
    """The group DeleteSecurityGroup names, found as moto finds it (None: moto answers)."""
    if group_id:
        return backend.get_security_group_from_id(group_id)
    return backend.get_security_group_by_name_or_id(name) if name else None


def remove_nat_interface(backend: Any, nat_gateway: Any) -> None:
    """Disassociate the gateway's Elastic IP and delete its network interface."""
    eni = getattr(nat_gateway, "_eni", None)
    if eni is None or eni.id not in backend.enis:
        return
    for address in backend.addresses:
        if address.eni is not None and address.eni.id == eni.id:
            backend.disassociate_address(address=address.public_ip)
    backend.delete_network_interface(eni.id)


def install() -> str:
    """Make DeleteVpc, DeleteSubnet and DeleteSecurityGroup refuse while something depends
    on the resource, and DeleteNatGateway delete the gateway's network interface."""
    delete_vpc = VPCBackend.delete_vpc
    if getattr(delete_vpc, "tap_extended", False):
        return NAME
    delete_subnet = SubnetBackend.delete_subnet
    delete_security_group = SecurityGroupBackend.delete_security_group
    delete_nat_gateway = NatGatewayBackend.delete_nat_gateway

    def checked_delete_vpc(self: Any, vpc_id: str) -> Any:
        if vpc_id in self.vpcs and vpc_dependents(self, vpc_id):
            raise DependencyViolationError(VPC_IN_USE.format(vpc_id))
        return delete_vpc(self, vpc_id)

    def checked_delete_subnet(self: Any, subnet_id: str) -> Any:
        if subnet_interfaces(self, subnet_id):
            raise DependencyViolationError(SUBNET_IN_USE.format(subnet_id))
        return delete_subnet(self, subnet_id)

    def checked_delete_security_group(self: Any, name: str | None = None,
                                      group_id: str | None = None) -> None:
        group = _group_to_delete(self, name, group_id)
        if group is not None and (group_interfaces(self, group.id)
                                  or group_referrers(self, group.id)):
            raise DependencyViolationError(GROUP_IN_USE.format(group.id))
        delete_security_group(self, name=name, group_id=group_id)

    def delete_nat_gateway_and_interface(self: Any, nat_gateway_id: str) -> Any:
        nat_gateway = delete_nat_gateway(self, nat_gateway_id)
        remove_nat_interface(self, nat_gateway)
        return nat_gateway

    checked_delete_vpc.tap_extended = True  # type: ignore[attr-defined]
    VPCBackend.delete_vpc = checked_delete_vpc  # type: ignore[method-assign]
    SubnetBackend.delete_subnet = checked_delete_subnet  # type: ignore[method-assign]
    SecurityGroupBackend.delete_security_group = (  # type: ignore[method-assign]
        checked_delete_security_group)
    NatGatewayBackend.delete_nat_gateway = (  # type: ignore[method-assign]
        delete_nat_gateway_and_interface)
    return NAME
