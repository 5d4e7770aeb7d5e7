"""Staff pages of field collection (mounted at /field/collections/)."""

from django.urls import URLPattern, URLResolver, path

from field import views

app_name = "field_collections"
urlpatterns: list[URLPattern | URLResolver] = [
    path("", views.collections_index, name="index"),
    path("review/", views.review_queue, name="review"),
    path("records/<int:record_id>/", views.record_detail, name="record"),
    path("<int:collector_id>/<str:day>/", views.collector_day, name="collector_day"),
]
