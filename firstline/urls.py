from django.contrib import admin
from django.urls import include, path

from firstline import views
from firstline.api import api

admin.site.has_permission = lambda request: request.user.is_active and request.user.is_superuser  # type: ignore[method-assign]

urlpatterns = [
    path("healthz", views.healthz, name="healthz"),
    path("", views.home, name="home"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("", include("firstline.accounts.urls")),
    path("api/v1/", api.urls),
    path("", include("firstline.places.urls")),
    path("", include("firstline.people.urls")),
    path("", include("firstline.audit.urls")),
    path("", include("firstline.status.public_urls")),
    path("", include("firstline.status.worker_urls")),
    path("", include("firstline.tasks.urls")),
    path("", include("firstline.status.urls")),
    path("", include("firstline.status.dashboard_urls")),
    path("", include("firstline.gates.pass_urls")),
    path("", include("firstline.gates.app_urls")),
    path("", include("firstline.gates.duty_urls")),
    path("admin/", admin.site.urls),
]
