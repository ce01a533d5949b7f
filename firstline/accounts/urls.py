from django.contrib.auth import views as auth_views
from django.urls import path, reverse_lazy

from firstline.accounts import views

app_name = "accounts"
urlpatterns = [
    path(
        "accounts/login/",
        auth_views.LoginView.as_view(template_name="accounts/login.html", redirect_authenticated_user=True),
        name="login",
    ),
    path("accounts/logout/", auth_views.LogoutView.as_view(), name="logout"),
    path(
        "accounts/password/",
        auth_views.PasswordChangeView.as_view(
            template_name="accounts/password.html", success_url=reverse_lazy("accounts:password_done")
        ),
        name="password",
    ),
    path("accounts/password/done/", views.password_done, name="password_done"),
    path("accounts/devices/", views.devices, name="devices"),
    path("accounts/devices/<str:code>/revoke/", views.device_revoke, name="device_revoke"),
    path("c/<str:community>/team/", views.team, name="team"),
    path("m/<str:code>/revoke/", views.revoke, name="revoke"),
]
