"""REST API of field collection (mounted under /api/v1/)."""

from django.urls import path

from field import api, sheet_api

urlpatterns = [
    path("field/devices/", api.DeviceRegisterView.as_view(), name="api_field_devices"),
    path("field/devices/<int:device_id>/revoke/", api.DeviceRevokeView.as_view(), name="api_field_revoke"),
    path("field/sync/", api.SyncView.as_view(), name="api_field_sync"),
    path("field/sheet/", sheet_api.SheetView.as_view(), name="api_field_sheet"),
    path("field/book/", sheet_api.BookView.as_view(), name="api_field_book"),
]
