"""Staff pages of the members module (mounted at /members/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.members import views

app_name = "members"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.member_list, name="list"),
    path("new/", views.member_create, name="create"),
    path("<int:member_id>/", views.member_detail, name="detail"),
    path("<int:member_id>/edit/", views.member_edit, name="edit"),
    path("<int:member_id>/nominees/", views.member_nominees, name="nominees"),
    path("<int:member_id>/status/", views.member_status, name="status"),
    path("<int:member_id>/documents/upload/", views.document_upload, name="document_upload"),
    path("<int:member_id>/documents/<int:document_id>/", views.document_file, name="document_image"),
    path(
        "<int:member_id>/documents/<int:document_id>/thumbnail/",
        views.document_file,
        {"thumbnail": True},
        name="document_thumbnail",
    ),
    path("groups/", views.group_list, name="group_list"),
    path("groups/new/", views.group_create, name="group_create"),
    path("groups/<int:group_id>/edit/", views.group_edit, name="group_edit"),
    path("groups/<int:group_id>/leader-login/", views.group_leader_login, name="group_leader_login"),
    path(
        "groups/<int:group_id>/leader-login/close/",
        views.group_leader_login_close,
        name="group_leader_login_close",
    ),
]
