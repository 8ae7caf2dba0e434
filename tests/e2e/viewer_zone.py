"""The viewer's own domain on the emulator: a public hosted zone made before the synth, as
the team that owns the domain would have it, and removed at the end.

  zone          a public Route 53 zone ``<suffix>.tap-e2e.example``; the life then runs with
                HOSTED_ZONE_ID and DOMAIN_NAMES (the apex and ``www.``): the stack makes the
                certificate, validates it in the zone and adds the alias records, and the
                integration suite checks them
  zone-removed  after the last destroy, only the zone's own NS and SOA records may be left
                (destroy removed the validation and alias records); then the zone goes
"""
from __future__ import annotations

from tests.e2e.harness import PhaseFailed, Run

ZONE_RECORD_TYPES = {"NS", "SOA"}  # Route 53 makes these with the zone


def zone_name(suffix: str) -> str:
    """The test zone of an environment (example.* is reserved for documentation)."""
    return f"{suffix}.tap-e2e.example"


def zone(run: Run) -> None:
    """Create the public zone and give its id and names to every later command."""
    name = zone_name(run.suffix)
    created = run.client("route53").create_hosted_zone(
        Name=name, CallerReference=f"tap-e2e-{run.suffix}",
        HostedZoneConfig={"Comment": "e2e: the viewer domain", "PrivateZone": False})
    zone_id = created["HostedZone"]["Id"].rsplit("/", 1)[-1]
    run.settings_env.update({"HOSTED_ZONE_ID": zone_id, "DOMAIN_NAMES": f"{name},www.{name}"})
    run.report.notes.append(f"zone: {name} ({zone_id}) with HOSTED_ZONE_ID and DOMAIN_NAMES")


def zone_removed(run: Run) -> None:
    """Destroy left only the zone's own records; then delete the zone."""
    zone_id = run.settings_env.get("HOSTED_ZONE_ID")
    if not zone_id:
        raise PhaseFailed("zone-removed: no zone was made")
    route53 = run.client("route53")
    records = route53.list_resource_record_sets(HostedZoneId=zone_id)["ResourceRecordSets"]
    left = [f"{r['Type']} {r['Name']}" for r in records if r["Type"] not in ZONE_RECORD_TYPES]
    if left:
        raise PhaseFailed("zone-removed: destroy left records in the zone: " + ", ".join(left))
    route53.delete_hosted_zone(Id=zone_id)
