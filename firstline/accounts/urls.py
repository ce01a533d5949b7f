from django.contrib.auth import views as auth_views
from django.urls import path

from firstline.accounts import views

app_name = "accounts"
urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path("c/<str:community>/team/", views.team, name="team"),
    path("m/<str:code>/revoke/", views.revoke, name="revoke"),
]
