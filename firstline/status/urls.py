from django.urls import path

from firstline.status import views

app_name = "status"
urlpatterns = [
    path("c/<str:community>/map/", views.community_map, name="map"),
    path("c/<str:community>/map/print/", views.map_print, name="map_print"),
    path("c/<str:community>/map/print/<str:code>/", views.map_print_job, name="map_print_job"),
    path("c/<str:community>/map/print/<str:code>.pdf", views.map_print_file, name="map_print_file"),
    path("s/<str:street>/map/", views.street_map, name="street_map"),
]
