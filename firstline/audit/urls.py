from django.urls import path

from firstline.audit import views

app_name = "audit"
urlpatterns = [
    path("c/<str:community>/export/", views.export_new, name="export_new"),
    path("c/<str:community>/exports/", views.exports, name="exports"),
    path("x/<str:code>/", views.export, name="export"),
    path("x/<str:code>/download/", views.export_download, name="export_download"),
    path("x/<str:code>/decide/", views.export_decide, name="export_decide"),
]
