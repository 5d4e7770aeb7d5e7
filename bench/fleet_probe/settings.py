"""The product's settings plus the benchmark-only workspace app ``fleet_probe``."""

from control_plane.settings import *  # noqa: F403
from control_plane.settings import INSTALLED_APPS, TENANT_APPS

TENANT_APPS = [*TENANT_APPS, "bench.fleet_probe"]
INSTALLED_APPS = [*INSTALLED_APPS, "bench.fleet_probe"]
