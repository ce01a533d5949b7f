from django.urls import path

from firstline.people import views

app_name = "people"
urlpatterns = [
    path("c/<str:community>/", views.overview, name="overview"),
]
