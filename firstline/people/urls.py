from django.urls import path

from firstline.people import import_views, views

app_name = "people"
urlpatterns = [
    path("c/<str:community>/", views.overview, name="overview"),
    path("c/<str:community>/residents/", views.residents, name="residents"),
    path("c/<str:community>/import/", import_views.import_upload, name="import_upload"),
    path("c/<str:community>/import/<str:code>/", import_views.import_job, name="import_job"),
    path("c/<str:community>/import/<str:code>/report.xlsx", import_views.import_report, name="import_report"),
    path("h/<str:code>/", views.household, name="household"),
    path("h/<str:code>/residents/new/", views.resident_new, name="resident_new"),
    path("r/<str:code>/", views.resident, name="resident"),
    path("r/<str:code>/unmask/", views.resident_unmask, name="resident_unmask"),
    path("r/<str:code>/edit/", views.resident_edit, name="resident_edit"),
    path("r/<str:code>/movements/new/", views.movement_new, name="movement_new"),
]
