"""URLs of onboarding (on the bare domain): sign-up, its payment return and its waiting page."""

from django.urls import URLPattern, URLResolver, path

from onboarding import views

urlpatterns: list[URLPattern | URLResolver] = [
    path("signup/", views.signup, name="signup"),
    path("signup/subdomain/", views.signup_slug_check, name="signup_slug_check"),
    path("signup/<uuid:public_id>/", views.signup_status, name="signup_status"),
    path("signup/<uuid:public_id>/progress/", views.signup_progress_partial, name="signup_progress"),
    path("signup/<uuid:public_id>/return/", views.signup_return, name="signup_return"),
    path("signup/<uuid:public_id>/cancelled/", views.signup_cancelled, name="signup_cancelled"),
    path("signup/<uuid:public_id>/resume/", views.signup_resume, name="signup_resume"),
]
