from django.urls import path

from firstline.places import views

app_name = "places"
urlpatterns = [
    path("c/<str:community>/buildings/", views.community_buildings, name="community_buildings"),
    path("b/<str:code>/households/", views.building_households, name="building_households"),
]
