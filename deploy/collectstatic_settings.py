"""Settings for ``collectstatic`` while the container image is built, and for nothing else.

The image is built without secrets, so the production profile (which refuses to start without
them) cannot be loaded at build time: COOPCORE_PROFILE stays unset and the development profile
is read. The development profile stores static files without a manifest, but the production
profile serves them through WhiteNoise's ``CompressedManifestStaticFilesStorage``, which needs
``staticfiles.json`` in STATIC_ROOT. This overlay keeps every development value except the
static files storage, so the build writes the hashed, compressed files and the manifest that
production reads.

Used only as ``python manage.py collectstatic --noinput --settings=deploy.collectstatic_settings``
in deploy/Dockerfile; nothing at run time imports it.
"""

from control_plane.settings import *  # noqa: F403
from control_plane.settings import STORAGES as _STORAGES

STORAGES = {
    **_STORAGES,
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}
