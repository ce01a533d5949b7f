"""Pages opened without an account (check-in, self-declaration) and the workers' pages behind them."""

from django.urls import path

from firstline.status import public_views as views

app_name = "public"
urlpatterns = [
    path("checkin/", views.checkin, name="checkin"),
    path("checkin/household/", views.checkin_household, name="checkin_household"),
    path("checkin/leave/", views.checkin_leave, name="checkin_leave"),
    path("declare/thanks/", views.declare_thanks, name="declare_thanks"),
    path("declare/c/<str:community>/", views.declare_community, name="declare_community"),
    path("declare/<str:gate>/", views.declare_gate, name="declare_gate"),
    path("c/<str:community>/declarations/", views.declarations, name="declarations"),
    path("c/<str:community>/declarations/<str:code>/", views.declaration, name="declaration"),
    path("c/<str:community>/letters/", views.letters_overview, name="letters"),
    path("c/<str:community>/poster.pdf", views.community_poster, name="community_poster"),
    path("b/<str:code>/letters/", views.building_letters, name="building_letters"),
    path("b/<str:code>/letters/<str:token>/", views.letters_job, name="letters_job"),
    path("b/<str:code>/letters/<str:token>/letters.pdf", views.letters_download, name="letters_download"),
    path("g/<str:code>/poster.pdf", views.gate_poster, name="gate_poster"),
]
