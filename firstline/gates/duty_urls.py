from django.urls import path

from firstline.gates import duty_views as views
from firstline.gates import rules_views

app_name = "duty"
urlpatterns = [
    path("gates/", views.gate_list, name="gates"),
    path("gates/rules/<str:community>/", rules_views.gate_rules, name="rules"),
    path("gates/passes/<str:code>/scans/", views.pass_scans, name="pass_scans"),
    path("gates/shifts/<str:code>/remove/", views.shift_remove, name="shift_remove"),
    path("gates/shifts/<str:code>/handover/", views.handover, name="handover"),
    path("gates/<str:code>/", views.gate_page, name="gate"),
    path("gates/<str:code>/shifts/", views.shift_add, name="shift_add"),
    path("gates/<str:code>/rotation/", views.rotation, name="rotation"),
]
