from django.urls import path

from firstline.gates import app_views as views

app_name = "gates"
urlpatterns = [
    path("gates/sw.js", views.service_worker, name="service_worker"),
    path("gates/<str:code>/app/", views.gate_app, name="app"),
    path("gates/<str:code>/app/manifest.webmanifest", views.manifest, name="manifest"),
]
