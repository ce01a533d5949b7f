from django.urls import path

from firstline.status import dashboard_views

app_name = "dashboard"
urlpatterns = [
    path("c/<str:community>/dashboard/", dashboard_views.community_dashboard, name="community"),
    path("s/<str:street>/dashboard/", dashboard_views.street_dashboard, name="street"),
]
