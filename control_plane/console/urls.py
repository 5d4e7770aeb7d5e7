"""URLs of control_plane/console (on the bare domain, under /console/; namespace ``console``)."""

from django.urls import URLPattern, URLResolver, path

from control_plane.console import tenant_imports, views

app_name = "console"

urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.tenant_list, name="tenants"),
    path("login/", views.login, name="login"),
    path("login/verify/", views.verify, name="verify"),
    path("login/enrol/", views.enrol_device, name="enrol_device"),
    path("logout/", views.logout, name="logout"),
    path("enrol/<uidb64>/<token>/", views.enrol, name="enrol"),
    path("provision/", views.tenant_provision, name="provision"),
    path("tenants/<slug:slug>/", views.tenant_detail, name="tenant"),
    path("tenants/<slug:slug>/suspend/", views.tenant_suspend, name="suspend"),
    path("tenants/<slug:slug>/read-only/", views.tenant_read_only, name="read_only"),
    path("tenants/<slug:slug>/reactivate/", views.tenant_reactivate, name="reactivate"),
    path("tenants/<slug:slug>/export/", views.tenant_export, name="export"),
    path("tenants/<slug:slug>/plan/", views.tenant_plan, name="plan"),
    path("tenants/<slug:slug>/charges/", views.tenant_charge, name="charge"),
    path("tenants/<slug:slug>/backup/", views.tenant_backup, name="backup"),
    path("tenants/<slug:slug>/backups/", views.tenant_backups_panel, name="backups_panel"),
    path("tenants/<slug:slug>/backups/<int:backup_id>/restore/", views.tenant_restore, name="restore"),
    path(
        "tenants/<slug:slug>/old-schemas/<slug:schema_name>/drop/",
        views.tenant_old_schema_drop,
        name="old_schema_drop",
    ),
    path("tenants/<slug:slug>/imports/", tenant_imports.import_list, name="imports"),
    path("tenants/<slug:slug>/imports/new/", tenant_imports.import_new, name="import_new"),
    path("tenants/<slug:slug>/imports/<int:job_id>/", tenant_imports.import_detail, name="import"),
    path(
        "tenants/<slug:slug>/imports/<int:job_id>/progress/",
        tenant_imports.import_progress,
        name="import_progress",
    ),
    path(
        "tenants/<slug:slug>/imports/<int:job_id>/report.xlsx",
        tenant_imports.import_report,
        name="import_report",
    ),
    path(
        "tenants/<slug:slug>/imports/<int:job_id>/commit/", tenant_imports.import_commit, name="import_commit"
    ),
    path(
        "tenants/<slug:slug>/imports/<int:job_id>/rollback/",
        tenant_imports.import_rollback,
        name="import_rollback",
    ),
    path("fleet/", views.fleet_runs, name="fleet"),
    path("fleet/<int:run_id>/", views.fleet_run, name="fleet_run"),
    path("fleet/<int:run_id>/progress/", views.fleet_run_progress, name="fleet_run_progress"),
]
