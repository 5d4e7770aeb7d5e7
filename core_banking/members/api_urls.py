"""REST API of the members module (mounted under /api/v1/)."""

from django.urls import URLPattern, URLResolver, path

from core_banking.members import api

urlpatterns: list[URLPattern | URLResolver] = [
    path("members/", api.MemberListView.as_view(), name="api_members"),
    path("members/<int:member_id>/", api.MemberDetailView.as_view(), name="api_member"),
    path("members/<int:member_id>/nominees/", api.MemberNomineesView.as_view(), name="api_member_nominees"),
    path("members/<int:member_id>/status/", api.MemberStatusView.as_view(), name="api_member_status"),
    path(
        "members/<int:member_id>/documents/", api.MemberDocumentsView.as_view(), name="api_member_documents"
    ),
    path("member-groups/", api.GroupListView.as_view(), name="api_member_groups"),
    path("member-groups/<int:group_id>/", api.GroupDetailView.as_view(), name="api_member_group"),
    path("member-types/", api.MemberTypeListView.as_view(), name="api_member_types"),
    path("member-types/<int:type_id>/", api.MemberTypeDetailView.as_view(), name="api_member_type"),
]
